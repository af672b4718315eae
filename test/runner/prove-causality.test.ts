import { describe, expect, it } from "vitest";
import * as torch from "../../src/engine/index.ts";
import { F, type Tensor } from "../../src/engine/index.ts";
import { traceForward, type TracedGraph } from "../../src/data/trace-export.ts";
import { GraphRejectedError } from "../../src/runner/check-graph.ts";
import { graphAtBatchSize, proveCausality } from "../../src/runner/prove-causality.ts";
import { replayGraph } from "../../src/runner/replay-graph.ts";
import { tokens } from "./tiny-lm.ts";

const B = 2, T = 8, V = 16, C = 8, H = 2, D = 4;
type Forward = (idx: Tensor, targets: Tensor) => Tensor;

torch.manualSeed(3);
const param = (...shape: number[]) => torch.persistent(() => torch.randn(shape).mul(0.5));
const wte = param(V, C), head = param(V, C), w = param(C, C), scale = param(1), cos = param(T, D / 2), sin = param(T, D / 2);

/** The graph of `forward`: an embedding, the caller's body, then the loss against the targets. */
function graphOf(body: (x: Tensor, idx: Tensor) => Tensor, batch = B): { graph: TracedGraph; weights: Uint8Array; forward: Forward } {
  const forward: Forward = (idx, targets) =>
    F.crossEntropy(F.linear(body(F.embedding(idx, wte), idx), head), targets, { ignoreIndex: -1, reduction: "none" });
  return { ...traceForward({ parameters: () => [], forward }, batch, T), forward };
}

function rejection(body: (x: Tensor, idx: Tensor) => Tensor, batch = B): string {
  const { graph } = graphOf(body, batch);
  try {
    proveCausality(graph);
  } catch (error) {
    expect(error).toBeInstanceOf(GraphRejectedError);
    return (error as Error).message;
  }
  throw new Error("Expected the proof to reject the graph, but it passed");
}

const heads = (x: Tensor) => x.view(x.shape[0], T, H, D);
const merged = (x: Tensor) => x.view(x.shape[0], T, C);

/** One honest model that applies every op kind of the table at least once, causally. */
const everyOp = (x: Tensor, idx: Tensor): Tensor => {
  const Bx = idx.shape[0];
  let y = F.rmsNorm(x).to("f64").to("f32");
  const q = F.applyRotary(heads(F.linear(y, w)), cos, sin);
  const k = heads(y).permute(0, 2, 1, 3).contiguous().permute(0, 2, 1, 3);
  y = y.add(merged(F.attention(F.rmsNorm(q), k, heads(y), { window: 3 })));
  const first = y.slice(1, 0, 1).expand(Bx, T, C); // position 0 is before every position
  const shift = torch.concat([y.slice(1, 0, 1).mul(0), y.slice(1, 0, T - 1)], 1); // position t reads t - 1
  const halves = torch.concat([y.slice(2, 0, C / 2), torch.stack([y.slice(2, C / 2, C)], 0).squeeze(0)], 2);
  y = F.scaledAdd(y, scale, shift.add(first).sub(halves).mul(first.sigmoid()).div(y.square().add(1)), scale);
  y = torch.maximum(y, y.neg()).add(y.abs().sqrt()).add(y.exp().log()).add(y.softmax(-1)).add(F.logSoftmax(y, -1));
  y = y.add(y.mean(-1, true)).add(F.reluSquare(y).tanh()).add(F.softcap(y, 3)).add(y.rsqrt().relu().pow(2).mul(0));
  y = y.add(torch.step(y).mul(0.1)).add(y.sum(2, true).sub(y.sum([2]).unsqueeze(-1)));
  const flat = torch.baddbmm(scale.view(1, 1), y.reshape(Bx * T, C), w, { alpha: 0.5, beta: 1 }); // rows are (batch, time) pairs
  return flat.view(Bx, T, C);
};

describe("proveCausality", () => {
  it("accepts an honest model that uses every op kind, and replays it at other batch sizes as the model runs there", async () => {
    const { graph, weights, forward } = graphOf(everyOp);
    expect(new Set(graph.nodes.map((n) => n.op))).toEqual(new Set([
      "embedding", "rms_norm", "cast", "matmul", "permute", "reshape", "rotary", "contiguous", "attention", "add", "slice", "expand",
      "mul_scalar", "concat", "sub", "sigmoid", "mul", "square", "add_scalar", "div", "scaled_add", "neg", "maximum", "abs", "sqrt", "exp",
      "log", "softmax", "log_softmax", "sum", "relu_square", "tanh", "softcap", "rsqrt", "relu", "pow_scalar", "step", "baddbmm", "cross_entropy",
    ]));
    expect(() => proveCausality(graph)).not.toThrow();
    const constants = new Map(graph.constants.map((c) => [c.id, new Float32Array(weights.buffer.slice(c.byteOffset, c.byteOffset + 4 * c.shape.reduce((a, d) => a * d, 1)))]));
    const replay = replayGraph({ graph, constants }, "cpu");
    for (const rows of [1, 3, 5]) {
      const x = tokens(rows * T, V, rows), y = tokens(rows * T, V, rows + 1);
      const inProcess = torch.noGrad(() => forward(torch.tensor(x, [rows, T], { dtype: "i32" }), torch.tensor(y, [rows, T], { dtype: "i32" })).toArray());
      expect(await replay.lossFn(x, y, rows, T)).toEqual(inProcess);
    }
    replay.dispose();
  });

  it("accepts position 0's features broadcast to every position after reshapes that move them", () => {
    expect(() => proveCausality(graphOf((x) => x.add(x.slice(1, 0, 1).reshape(B, C).unsqueeze(1))).graph)).not.toThrow();
  });

  it("accepts reshapes that regroup features across dims, and a token shift padded with a zeroed position", () => {
    const table = torch.persistent(() => torch.randn([6, 4]));
    const regrouped = (x: Tensor) => x.reshape(B, T, 2, C / 2).reshape(B, T, C / 2, 2).reshape(B, T, C).add(table.reshape(4, 6).sum());
    expect(() => proveCausality(graphOf(regrouped).graph)).not.toThrow();
    const shift = (x: Tensor) => x.add(torch.concat([x.slice(1, 0, 1).mul(0), x.slice(1, 0, T - 1)], 1));
    expect(() => proveCausality(graphOf(shift).graph)).not.toThrow();
  });

  it("rewrites reshape and expand sizes that are the batch size, and no other", () => {
    const { graph } = graphOf((x) => x.slice(1, 0, 1).expand(B, T, C).add(x).reshape(B * T, C).view(B, T, C));
    const at5 = graphAtBatchSize(graph, 5);
    expect(at5.inputs.idx.shape).toEqual([5, T]);
    expect(at5.nodes.filter((n) => n.op === "expand" || n.op === "reshape").map((n) => n.attrs)).toEqual([{ shape: [5, T, C] }, { shape: [5 * T, C] }, { shape: [5, T, C] }]);
    expect(at5.nodes.at(-1)!.outputs[0].shape).toEqual([5, T]);
  });

  it("replays a graph traced at one row, whose reshapes could mean rows or positions, with every row on its own", async () => {
    const flat = (x: Tensor) => x.reshape(1, x.shape[0] * T, H, D);
    const { graph, weights } = graphOf((x) => F.attention(flat(x), flat(x), flat(x)).reshape(x.shape[0], T, C), 1);
    proveCausality(graph);
    const constants = new Map(graph.constants.map((c) => [c.id, new Float32Array(weights.buffer.slice(c.byteOffset, c.byteOffset + 4 * c.shape.reduce((a, d) => a * d, 1)))]));
    const replay = replayGraph({ graph, constants }, "cpu");
    const x = tokens(3 * T, V, 5), y = tokens(3 * T, V, 6);
    const rowByRow = await Promise.all([0, 1, 2].map((r) => replay.lossFn(x.subarray(r * T, (r + 1) * T), y.subarray(r * T, (r + 1) * T), 1, T)));
    expect(Array.from(await replay.lossFn(x, y, 3, T))).toEqual(rowByRow.flatMap((l) => Array.from(l)));
  });

  it("rejects a shifted slice concat (x[:, 1:] into position t), naming the slice", () => {
    const message = rejection((x) => torch.concat([x.slice(1, 1, T), x.slice(1, 0, 1)], 1));
    expect(message).toMatch(/^Cannot prove the graph causal: the loss at position t reads tokens up to position t \+ 1; the look-ahead enters at node \d+ \(slice\)$/);
  });

  it("rejects look-ahead at one position only, which a random cut would rarely hit", () => {
    // Position 5 also sees the token at 6; every other position is honest.
    const message = rejection((x) => x.add(torch.concat([x.slice(1, 0, 5).mul(0), x.slice(1, 6, 7), x.slice(1, 6, T).mul(0)], 1)));
    expect(message).toContain("reads tokens up to position t + 1; the look-ahead enters at node");
  });

  it("rejects a reshape that folds time into features once anything mixes the features", () => {
    expect(rejection((x) => x.reshape(B, T / 2, 2 * C).reshape(B, T, C))).toMatch(/node \d+ \(reshape\) splits the time axis \(size 8\) across dims$/);
    const folded = rejection((x) => x.reshape(B, T * C).matmul(torch.persistent(() => torch.randn([T * C, T * C]))).reshape(B, T, C));
    expect(folded).toMatch(/node \d+ \(matmul\) sums over the last dim of its first operand, which holds the time axis$/);
    expect(rejection((x) => F.rmsNorm(x.reshape(B, 1, T * C)).reshape(B, T, C))).toMatch(/\(rms_norm\) normalizes over its last dim, which holds the time axis$/);
  });

  it("rejects a transpose that swaps time with the batch", () => {
    const swapped = (x: Tensor) => heads(x).permute(1, 0, 2, 3);
    expect(rejection((x) => merged(F.attention(swapped(x), swapped(x), swapped(x)).permute(1, 0, 2, 3)), T))
      .toMatch(/node \d+ \(attention\) attends along the batch axis \(rows\)$/);
    expect(rejection((x) => x.add(x.permute(1, 0, 2)), T)).toMatch(/node \d+ \(add\) lines up the batch axis of one operand with the time axis of another$/);
  });

  it("rejects a matmul over the time axis, even a causal lower-triangular one, and a mask built from the data", () => {
    const tril = torch.persistent(() => torch.tensor(Array.from({ length: T * T }, (_, i) => (i % T <= Math.floor(i / T) ? 1 : 0)), [T, T]));
    const mixed = rejection((x) => x.permute(0, 2, 1).matmul(tril.permute(1, 0)).permute(0, 2, 1));
    expect(mixed).toMatch(/node \d+ \(matmul\) sums over the last dim of its first operand, which holds the time axis$/);
    // Hand-made attention: scores over (t, s) pairs, a causal mask from the scores themselves.
    const manual = rejection((x) => {
      const scores = x.matmul(x.permute(0, 2, 1));
      return scores.mul(torch.step(scores)).softmax(-1).matmul(x);
    });
    expect(manual).toMatch(/node \d+ \(matmul\) combines positions along two time axes \(as a T x T mixing would\)$/);
  });

  it("rejects a cumulative sum in the wrong direction, and in the right one (beyond the rules)", () => {
    const triu = torch.persistent(() => torch.tensor(Array.from({ length: T * T }, (_, i) => (i % T >= Math.floor(i / T) ? 1 : 0)), [T, T]));
    expect(rejection((x) => triu.expand(B, T, T).matmul(x))).toMatch(/node \d+ \(matmul\) sums over the second-to-last dim of its second operand, which holds the time axis$/);
    // A suffix sum built from slices: position t adds the token at t + 1.
    expect(rejection((x) => x.add(torch.concat([x.slice(1, 1, T), x.slice(1, 0, 1).mul(0)], 1)))).toMatch(/look-ahead enters at node \d+ \(slice\)$/);
  });

  it("rejects attention the trace marks non-causal, or with a window past the sequence", () => {
    const { graph } = graphOf((x) => merged(F.attention(heads(x), heads(x), heads(x))));
    const attention = graph.nodes.find((n) => n.op === "attention")!;
    attention.attrs = { ...(attention.attrs as object), causal: false };
    expect(() => proveCausality(graph)).toThrow(/node \d+ \(attention\) has attrs `\{"window":8,"scale":0.5,"causal":false\}`; expected exactly \{window, scale\}$/);
    attention.attrs = { window: T + 1, scale: 0.5 };
    expect(() => proveCausality(graph)).toThrow(/node \d+ \(attention\) has window `9`; expected an integer in \[0, 8\]$/);
  });

  it("rejects a sum or mean over the time axis broadcast back to every position", () => {
    expect(rejection((x) => x.add(x.mean(1, true)))).toMatch(/node \d+ \(sum\) sums over dim 1, which holds the time axis$/);
    expect(rejection((x) => x.add(x.slice(1, T - 1, T).expand(B, T, C)))).toMatch(/reads tokens up to position t \+ 7; the look-ahead enters at node \d+ \(slice\)$/);
  });

  it("rejects mixing rows", () => {
    // Attention over the flattened (batch, time) dim: row 1 reads row 0.
    const flat = (x: Tensor) => x.reshape(1, B * T, H, D);
    expect(rejection((x) => F.attention(flat(x), flat(x), flat(x)).reshape(B, T, C))).toMatch(/node \d+ \(attention\) attends along the batch axis \(rows\)$/);
    expect(rejection((x) => x.add(x.sum(0, true)))).toMatch(/node \d+ \(sum\) sums over dim 0, which holds the batch axis \(rows\)$/);
    const perRow = torch.persistent(() => torch.randn([B, 1, 1]));
    expect(rejection((x) => x.mul(perRow))).toMatch(/lines up the batch axis with a dim of size 2 that does not come from the input/);
  });

  it("rejects the targets read anywhere but as the final loss's labels", () => {
    // A loss inside the model, scored against the real targets: position t would learn how likely token t + 1 is.
    const { graph } = graphOf((x, idx) => x.add(F.crossEntropy(F.linear(x, head), idx, { ignoreIndex: -1, reduction: "none" }).unsqueeze(-1)));
    graph.nodes.find((n) => n.op === "cross_entropy")!.inputs[1] = 1;
    expect(() => proveCausality(graph)).toThrow(/reads tokens up to position t \+ 1; the look-ahead enters at the targets input$/);
  });

  it("rejects an op the table does not cover, an output the trace misstates, and a read of the loss's count", () => {
    const { graph } = graphOf((x) => x.relu());
    const relu = graph.nodes.find((n) => n.op === "relu")!;
    relu.op = "adamw_step";
    expect(() => proveCausality(graph)).toThrow(/^Cannot prove the graph causal: node \d+ \(adamw_step\) has no rule in the evaluator's causality table; the table covers abs, add, /);
    relu.op = "relu";
    relu.outputs[0].shape = [B, T, C + 1];
    expect(() => proveCausality(graph)).toThrow(`gives output 0 of shape [${B},${T},${C}], but the trace says [${B},${T},${C + 1}]`);
    // A loss inside the model, scored against the input tokens: its count sums over every position.
    const inner = graphOf((x, idx) => x.add(F.crossEntropy(F.linear(x, head), idx, { ignoreIndex: -1, reduction: "none" }).unsqueeze(-1))).graph;
    const ce = inner.nodes.find((n) => n.op === "cross_entropy")!;
    const reader = inner.nodes.find((n) => n.inputs.includes(ce.outputs[0].id))!;
    reader.inputs = [ce.outputs[1].id];
    expect(() => proveCausality(inner)).toThrow(/node \d+ \(reshape\) reads value \d+ \(its input 0\), which counts the targets that are not ignored, across every row and position$/);
  });
});
