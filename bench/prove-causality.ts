/**
 * How long the evaluator's causality proof takes on train.ts's traced forward pass: the `test`
 * profile's depth-2 model and the default depth-8 model (the reference's 50M-parameter GPT,
 * traced at one row of 2048 tokens). The anchor is linearity: time per node should not grow
 * with the graph. Also shown: the resize to another batch size, and parsing graph.json.
 *
 *   npm run bench:causality        (about a minute: the depth-8 trace runs one CPU forward pass)
 *
 * Prints a table, then one JSON line with every figure.
 */
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { GRAPH_FILE } from "../src/data/trace-export.ts";
import { graphAtBatchSize, proveCausality } from "../src/runner/prove-causality.ts";
import { traceTrain } from "../test/runner/prove-causality-trace.ts";

const WARM_UP_MS = 500, REPEATS = 50;

/** The fastest of REPEATS runs of `fn` in milliseconds, after WARM_UP_MS of runs for the JIT (the fastest is the one other processes disturbed least). */
function fastestMs(fn: () => void): number {
  for (const start = performance.now(); performance.now() - start < WARM_UP_MS;) fn();
  let best = Infinity;
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const figures = [];
for (const [name, profile, consts] of [["depth 2 (test)", "test", {}], ["depth 8 (default)", "default", { DEVICE_BATCH_SIZE: "1" }]] as const) {
  const { graph, traceDir } = await traceTrain(profile, { consts });
  const text = readFileSync(join(traceDir, GRAPH_FILE), "utf8");
  rmSync(dirname(traceDir), { recursive: true }); // the depth-8 weights take 200 MB
  const parseMs = fastestMs(() => JSON.parse(text));
  const proveMs = fastestMs(() => proveCausality(graph));
  const resizeMs = fastestMs(() => graphAtBatchSize(graph, graph.inputs.idx.shape[0] + 1));
  figures.push({ model: name, nodes: graph.nodes.length, prove_ms: proveMs, us_per_node: (1000 * proveMs) / graph.nodes.length, resize_ms: resizeMs, parse_ms: parseMs });
}

console.log("causality proof of train.ts's graph   nodes   prove ms   us/node   resize ms   JSON.parse ms");
for (const f of figures) {
  console.log(`  ${f.model.padEnd(34)} ${String(f.nodes).padStart(5)} ${f.prove_ms.toFixed(2).padStart(10)} ${f.us_per_node.toFixed(1).padStart(9)} ${f.resize_ms.toFixed(2).padStart(11)} ${f.parse_ms.toFixed(2).padStart(15)}`);
}
const [small, large] = figures;
const linearity = large.us_per_node / small.us_per_node;
console.log(`  time per node, depth 8 / depth 2: ${linearity.toFixed(2)} (1 is linear)`);
console.log(JSON.stringify({ bench: "prove-causality", models: figures, us_per_node_ratio_depth8_vs_depth2: linearity }));
