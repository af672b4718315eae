/** Traces the real train.ts's forward pass without training: for the proof's test and benchmark. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GRAPH_FILE, type TracedGraph } from "../../src/data/trace-export.ts";
import { runTrain, trainVariant } from "../helpers/train-run.ts";

const MODEL_READY = "model.initWeights();";

/**
 * train.ts on `profile` with `consts` set and `edits` applied, run in a child process that
 * traces the model (prepare.ts's run mode) right after building it, and exits.
 */
export async function traceTrain(profile: string, { consts = {}, edits = [] }: { consts?: Record<string, string>; edits?: [from: string, to: string][] } = {}): Promise<{ graph: TracedGraph; traceDir: string }> {
  let source = trainVariant(profile, consts);
  for (const [from, to] of [...edits, [MODEL_READY, `${MODEL_READY}\nawait evaluateBpb(model, DEVICE_BATCH_SIZE);\nprocess.exit(0);`]]) {
    if (!source.includes(from)) throw new Error(`train.ts has no \`${from}\` to edit`);
    source = source.replace(from, to);
  }
  const traceDir = join(mkdtempSync(join(tmpdir(), "ar-prove-")), "trace");
  const run = await runTrain(source, [], {
    ...process.env, AUTORESEARCH_PROFILE: profile, AUTORESEARCH_RUN_MODE: "train", AUTORESEARCH_TRACE_DIR: traceDir,
  });
  if (run.exitCode !== 0) throw new Error(`train.ts exited with ${run.exitCode}:\n${run.output}`);
  return { graph: JSON.parse(readFileSync(join(traceDir, GRAPH_FILE), "utf8")), traceDir };
}
