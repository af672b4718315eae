import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nn, noGrad, persistent, tensor, type Tensor, F } from "../../src/engine/index.ts";
import { exportTrace, GRAPH_FILE } from "../../src/data/trace-export.ts";
import { GraphRejectedError } from "../../src/runner/check-graph.ts";
import { loadTrace } from "../../src/runner/load-trace.ts";
import { replayGraph } from "../../src/runner/replay-graph.ts";
import { tinyLM, tokens } from "./tiny-lm.ts";

const newDir = () => join(mkdtempSync(join(tmpdir(), "ar-replay-")), "trace");
const B = 3, T = 6, V = 40;

/** Per-token losses of `model` computed in process, the reference the replay must equal. */
function inProcess(model: { forward(x: Tensor, y: Tensor, r: "none"): Tensor }, x: Int32Array, y: Int32Array, rows = B) {
  return noGrad(() => model.forward(tensor(x, [rows, T], { dtype: "i32" }), tensor(y, [rows, T], { dtype: "i32" }), "none").toArray());
}

describe("replayGraph", () => {
  it("gives exactly the per-token losses of the model it was traced from, on other data", async () => {
    const model = tinyLM(V, 8);
    const dir = newDir();
    await exportTrace(model, B, T, dir);
    const replay = replayGraph(await loadTrace(dir, { vocabSize: V, seqLen: T }), "cpu");
    for (const seed of [1, 2]) {
      const x = tokens(B * T, V, seed), y = tokens(B * T, V, seed + 10);
      expect(await replay.lossFn(x, y, B, T)).toEqual(inProcess(model, x, y));
    }
    expect(replay.batchSize).toBe(B);
    replay.dispose();
  });

  it("runs at other batch sizes as the model runs there", async () => {
    const model = tinyLM(V, 8);
    const dir = newDir();
    await exportTrace(model, B, T, dir);
    const replay = replayGraph(await loadTrace(dir, { vocabSize: V, seqLen: T }), "cpu");
    for (const rows of [1, 2, 7]) {
      const x = tokens(rows * T, V, rows), y = tokens(rows * T, V, rows + 10);
      expect(await replay.lossFn(x, y, rows, T)).toEqual(inProcess(model, x, y, rows));
    }
    replay.dispose();
  });

  it("stores bf16 weights as f32 and replays them as bf16, exactly", async () => {
    class Bf16LM extends nn.Module {
      wte = new nn.Embedding(V, 8, { dtype: "bf16" });
      head = new nn.Linear(8, V);
      forward(idx: Tensor, targets: Tensor, reduction: "none") {
        return F.crossEntropy(this.head.forward(this.wte.forward(idx).to("f32")), targets, { ignoreIndex: -1, reduction });
      }
    }
    const model = persistent(() => new Bf16LM());
    const dir = newDir();
    const graph = await exportTrace(model, B, T, dir);
    const trace = await loadTrace(dir, { vocabSize: V, seqLen: T });
    const wte = graph.constants.find((c) => c.name === "wte.weight")!;
    expect([wte.dtype, wte.encoding]).toEqual(["bf16", "f32"]);
    expect(trace.constants.get(wte.id)).toEqual(model.wte.weight.toArray());
    const x = tokens(B * T, V, 3), y = tokens(B * T, V, 4);
    expect(await replayGraph(trace, "cpu").lossFn(x, y, B, T)).toEqual(inProcess(model, x, y));
  });

  it("stops when an op's output differs from what the trace recorded", async () => {
    const dir = newDir();
    const graph = await exportTrace(tinyLM(V, 8), B, T, dir);
    const trace = await loadTrace(dir, { vocabSize: V, seqLen: T });
    trace.graph.nodes[0].outputs[0].shape = [B, T, 9];
    const replay = async () => replayGraph(trace, "cpu").lossFn(tokens(B * T, V), tokens(B * T, V), B, T);
    await expect(replay).rejects.toThrow(GraphRejectedError);
    await expect(replay).rejects.toThrow(`Expected output 0 of node 0 (${graph.nodes[0].op}) to be f32 [3, 6, 9] as traced, got f32 [3, 6, 8]`);
    await expect(async () => replayGraph(trace, "cpu").lossFn(tokens(B * 2, V), tokens(B * 2, V), B, 2)).rejects.toThrow(
      "Expected batches of 6 tokens per row (as traced), got 3x2",
    );
  });
});

describe("loadTrace", () => {
  it("says what is missing when there is no trace", async () => {
    await expect(loadTrace(newDir(), { vocabSize: V, seqLen: T })).rejects.toThrow(/^Expected a trace \(graph.json and weights.bin\) in `.*`: ENOENT/);
  });

  it("rejects a graph that is not JSON", async () => {
    const dir = newDir();
    await exportTrace(tinyLM(V, 8), B, T, dir);
    writeFileSync(join(dir, GRAPH_FILE), "{ not json");
    const load = loadTrace(dir, { vocabSize: V, seqLen: T });
    await expect(load).rejects.toThrow(GraphRejectedError);
    await expect(load).rejects.toThrow("Expected graph.json to be JSON");
  });
});
