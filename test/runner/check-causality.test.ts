import { describe, expect, it } from "vitest";
import { traceForward } from "../../src/data/trace-export.ts";
import { CUT_PASSES, withCausalityCheck } from "../../src/runner/check-causality.ts";
import { GraphRejectedError } from "../../src/runner/check-graph.ts";
import { replayGraph } from "../../src/runner/replay-graph.ts";
import { tinyLM, tokens } from "./tiny-lm.ts";

const B = 4, T = 16, V = 50;

/** A seeded uniform source, so each test sees the same cut points. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** The replayed loss function of a TinyLM, recording each call's tokens and row count. */
function replayed(lookahead: boolean) {
  const { graph, weights } = traceForward(tinyLM(V, 8, { lookahead }), B, T);
  const constants = new Map(graph.constants.map((c) => {
    const n = c.shape.reduce((a, d) => a * d, 1);
    return [c.id, new Float32Array(weights.buffer.slice(c.byteOffset, c.byteOffset + 4 * n))];
  }));
  const { lossFn } = replayGraph({ graph, constants }, "cpu");
  const calls: { x: Int32Array; rows: number }[] = [];
  return { calls, lossFn: (x: Int32Array, y: Int32Array, rows: number, c: number) => (calls.push({ x, rows }), lossFn(x, y, rows, c)) };
}

describe("withCausalityCheck", () => {
  it("passes a causal model, returns its losses unchanged, and tests the first batch only, at another batch size", async () => {
    const model = replayed(false);
    const checked = withCausalityCheck(model.lossFn, V, seeded(1));
    const x = tokens(B * T, V, 1), y = tokens(B * T, V, 2);
    expect(await checked(x, y, B, T)).toEqual(await model.lossFn(x, y, B, T));
    // CUT_PASSES changed copies, the unchanged test batch, the batch itself, the reference call above.
    expect(model.calls).toHaveLength(CUT_PASSES + 3);
    const tests = model.calls.slice(0, CUT_PASSES + 1);
    const testRows = tests[0].rows;
    expect(testRows).not.toBe(B);
    expect(tests.every((c) => c.rows === testRows)).toBe(true);
    expect(model.calls[CUT_PASSES + 1].x).toBe(x);
    // The test batch is made of the batch's rows; each changed copy keeps every row's first token.
    const reference = tests[CUT_PASSES].x;
    const rowsOf = (a: Int32Array, n: number) => Array.from({ length: n }, (_, r) => a.slice(r * T, (r + 1) * T).join());
    expect(rowsOf(reference, testRows).every((row) => rowsOf(x, B).includes(row))).toBe(true);
    for (const changed of tests.slice(0, CUT_PASSES).map((c) => c.x)) {
      expect(changed).not.toEqual(reference);
      for (let r = 0; r < testRows; r++) expect(changed[r * T]).toBe(reference[r * T]);
    }
    await checked(x, y, B, T);
    expect(model.calls).toHaveLength(CUT_PASSES + 4);
  });

  it("picks every test batch size from 1 to one past the batch's, never the batch's own", async () => {
    const sizes = new Set<number>();
    for (let seed = 1; sizes.size < B && seed < 200; seed++) {
      const model = replayed(false);
      await withCausalityCheck(model.lossFn, V, seeded(seed))(tokens(B * T, V, 1), tokens(B * T, V, 2), B, T);
      sizes.add(model.calls[0].rows);
    }
    expect([...sizes].sort()).toEqual([1, 2, 3, 5]);
  });

  it("rejects a model that reads the next token", async () => {
    const model = replayed(true);
    const checked = withCausalityCheck(model.lossFn, V, seeded(1));
    const run = checked(tokens(B * T, V, 1), tokens(B * T, V, 2), B, T);
    await expect(run).rejects.toThrow(GraphRejectedError);
    await expect(run).rejects.toThrow(/^Expected the loss at row \d+, position \d+ of a \d-row test batch to depend only on the tokens up to it, but changing the tokens from position \d+ on changed it .*: the model reads ahead$/);
  });
});
