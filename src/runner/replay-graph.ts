/** Replays a checked traced graph with the trusted engine: the evaluator's model. */
import { getOp, noGrad, resetArena, tensor, type Device, type Tensor } from "../engine/index.ts";
import type { TokenLossFn } from "../data/evaluate-bpb.ts";
import type { TracedGraph, TracedValue } from "../data/trace-export.ts";
import { GraphRejectedError } from "./check-graph.ts";
import type { LoadedTrace } from "./load-trace.ts";
import { graphAtBatchSize } from "./prove-causality.ts";

const describe = (v: { shape: readonly number[]; dtype: string }) => `${v.dtype} [${v.shape.join(", ")}]`;

/** A replayed graph: per-token losses for (rows, T) batches, and a way to free its weights. */
export interface GraphModel {
  /** Takes any number of rows; T must be the traced one. */
  lossFn: TokenLossFn;
  /** Rows per batch the graph was traced at. */
  batchSize: number;
  dispose(): void;
}

/**
 * Uploads the trace's constants to `device` (persistent) and returns a loss function that runs
 * every node's op forward, in order, on each batch. At the traced batch size each output must
 * have the shape and dtype the trace recorded; at another, the shapes graphAtBatchSize derives
 * (else GraphRejectedError: the graph does not describe what it computes). The arena is reset
 * after every batch.
 */
export function replayGraph({ graph, constants }: LoadedTrace, device: Device): GraphModel {
  const weights = new Map<number, Tensor>(
    graph.constants.map((c) => [c.id, tensor(constants.get(c.id)!, c.shape, { dtype: c.dtype, device, persistent: true })]),
  );
  const [batchSize, seqLen] = graph.inputs.idx.shape;
  const atBatchSize = new Map<number, TracedGraph>([[batchSize, graph]]);
  const lossFn: TokenLossFn = (inputs, targets, rows, cols) => {
    if (cols !== seqLen) throw new Error(`Expected batches of ${seqLen} tokens per row (as traced), got ${rows}x${cols}`);
    if (!atBatchSize.has(rows)) atBatchSize.set(rows, graphAtBatchSize(graph, rows));
    const { nodes, output } = atBatchSize.get(rows)!;
    return noGrad(() => {
      const values = new Map(weights);
      values.set(0, tensor(inputs, [rows, cols], { dtype: "i32", device }));
      values.set(1, tensor(targets, [rows, cols], { dtype: "i32", device }));
      nodes.forEach((node, i) => {
        const { outputs } = getOp(node.op).forward(node.inputs.map((id) => values.get(id)!), node.attrs);
        if (outputs.length !== node.outputs.length) {
          throw new GraphRejectedError(`Expected node ${i} (${node.op}) to give ${node.outputs.length} outputs as traced, got ${outputs.length}`);
        }
        node.outputs.forEach((want: TracedValue, k) => {
          const got = outputs[k];
          if (got.dtype !== want.dtype || got.shape.length !== want.shape.length || got.shape.some((d, j) => d !== want.shape[j])) {
            throw new GraphRejectedError(`Expected output ${k} of node ${i} (${node.op}) to be ${describe(want)} as traced, got ${describe(got)}`);
          }
          values.set(want.id, got);
        });
      });
      const losses = values.get(output)!.toArray() as Float32Array | Float64Array;
      resetArena();
      return losses;
    });
  };
  return { lossFn, batchSize, dispose: () => weights.forEach((t) => t.storage.free()) };
}
