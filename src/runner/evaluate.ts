/**
 * The evaluator: computes val_bpb from the trace that train.ts left, with the trusted engine,
 * on the validation shard. It runs in its own process, from the base commit's harness, after
 * the training process has exited; the profile and data come from the environment, as for
 * prepare.ts.
 */
import { EVAL_TOKENS, MAX_SEQ_LEN, VOCAB_SIZE, evaluateLossBpb, loadTokenizer } from "../../prepare.ts";
import { backend } from "../engine/index.ts";
import { withCausalityCheck } from "./check-causality.ts";
import { loadTrace } from "./load-trace.ts";
import { proveCausality } from "./prove-causality.ts";
import { replayGraph } from "./replay-graph.ts";

/**
 * val_bpb of the graph traced into `traceDir`: checked (see checkGraph), proved causal (see
 * proveCausality), replayed on EVAL_TOKENS of the validation shard at the batch size it was
 * traced at, with the cut test (withCausalityCheck) at another batch size before the first
 * batch. The same code as prepare.ts's evaluateBpb, with the graph as the model.
 *
 * @throws GraphRejectedError when the graph breaks a rule of the metric.
 */
export async function evaluateTrace(traceDir: string, random?: () => number): Promise<number> {
  const tokenizer = await loadTokenizer();
  const trace = await loadTrace(traceDir, { vocabSize: VOCAB_SIZE, seqLen: MAX_SEQ_LEN });
  proveCausality(trace.graph);
  const model = replayGraph(trace, backend().backend);
  try {
    const bpb = await evaluateLossBpb(withCausalityCheck(model.lossFn, VOCAB_SIZE, random), model.batchSize, tokenizer);
    if (!(Number.isFinite(bpb) && bpb > 0)) {
      throw new Error(`Expected val_bpb over ${EVAL_TOKENS} tokens to be a positive number, got ${bpb}`);
    }
    return bpb;
  } finally {
    model.dispose();
  }
}
