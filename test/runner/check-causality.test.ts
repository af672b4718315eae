import { describe, expect, it } from "vitest";
import { traceForward } from "../../src/data/trace-export.ts";
import { withCausalityCheck } from "../../src/runner/check-causality.ts";
import { GraphRejectedError } from "../../src/runner/check-graph.ts";
import { replayGraph } from "../../src/runner/replay-graph.ts";
import { tinyLM, tokens } from "./tiny-lm.ts";

const B = 4, T = 16, V = 50;

/** A seeded uniform source, so each test sees the same cut points. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** The replayed loss function of a TinyLM, counting its calls. */
function replayed(lookahead: boolean) {
  const { graph, weights } = traceForward(tinyLM(V, 8, { lookahead }), B, T);
  const constants = new Map(graph.constants.map((c) => {
    const n = c.shape.reduce((a, d) => a * d, 1);
    return [c.id, new Float32Array(weights.buffer.slice(c.byteOffset, c.byteOffset + 4 * n))];
  }));
  const { lossFn } = replayGraph({ graph, constants }, "cpu");
  const calls: Int32Array[] = [];
  return { calls, lossFn: (x: Int32Array, y: Int32Array, r: number, c: number) => (calls.push(x), lossFn(x, y, r, c)) };
}

describe("withCausalityCheck", () => {
  it("passes a causal model, returns its losses unchanged, and checks the first batch only", async () => {
    const model = replayed(false);
    const checked = withCausalityCheck(model.lossFn, V, seeded(1));
    const x = tokens(B * T, V, 1), y = tokens(B * T, V, 2);
    expect(await checked(x, y, B, T)).toEqual(await model.lossFn(x, y, B, T));
    expect(model.calls).toHaveLength(3); // the changed copy, the batch, and the reference call above
    expect(model.calls[1]).toBe(x);
    const changed = model.calls[0];
    expect(changed.slice(0, 1)).toEqual(x.slice(0, 1)); // every row keeps at least its first token
    expect(changed).not.toEqual(x);
    await checked(x, y, B, T);
    expect(model.calls).toHaveLength(4);
  });

  it("rejects a model that reads the next token", async () => {
    const model = replayed(true);
    const checked = withCausalityCheck(model.lossFn, V, seeded(1));
    const run = checked(tokens(B * T, V, 1), tokens(B * T, V, 2), B, T);
    await expect(run).rejects.toThrow(GraphRejectedError);
    await expect(run).rejects.toThrow(/^Expected the loss at row 0, position \d+ to depend only on the tokens up to it, but changing the tokens from position \d+ on changed it .*: the model reads ahead$/);
  });
});
