import { describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { gradcheck, rand64 } from "../gradcheck.ts";

/** beta * input + alpha * a @ b over host arrays, one (M, N) matrix per batch: the independent reference. */
function naive(input: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>, batch: number, M: number, K: number, N: number, alpha: number, beta: number): number[] {
  const out: number[] = [];
  for (let n = 0; n < batch; n++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let dot = 0;
        for (let k = 0; k < K; k++) dot += a[(n * M + i) * K + k] * b[(n * K + k) * N + j];
        out.push(beta * input[(n * M + i) * N + j] + alpha * dot);
      }
    }
  }
  return out;
}

describe("baddbmm", () => {
  E.manualSeed(21);

  it.each([
    [1, 4, 3, 5, 1, 1],
    [3, 6, 5, 4, -2.5, 0.5],
    [2, 7, 7, 7, 15.878769915207462, -22.48329292557795],
  ])("batch %i, %ix%i @ %ix? with alpha %d and beta %d matches a naive loop", (batch, M, K, N, alpha, beta) => {
    const input = E.randn([batch, M, N], { dtype: "f64" }), a = E.randn([batch, M, K], { dtype: "f64" }), b = E.randn([batch, K, N], { dtype: "f64" });
    const got = Array.from(E.baddbmm(input, a, b, { alpha, beta }).toArray());
    const want = naive(input.toArray(), a.toArray(), b.toArray(), batch, M, K, N, alpha, beta);
    want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 10));
  });

  it("reads transposed views in place (Polar Express's X.mT @ X) and never reads the input when beta is 0", () => {
    const x = E.randn([2, 6, 3], { dtype: "f64" });
    const viaView = E.baddbmm(E.full([2, 3, 3], NaN, { dtype: "f64" }), x.mT, x, { beta: 0 }).toArray();
    const viaCopy = E.matmul(x.mT.contiguous(), x).toArray();
    expect(viaView.every(Number.isFinite)).toBe(true);
    viaCopy.forEach((w, i) => expect(viaView[i]).toBeCloseTo(w, 12));
  });

  it("broadcasts the input and has gradients for all three operands", () => {
    gradcheck((input, a, b) => E.baddbmm(input, a, b, { alpha: 0.7, beta: -1.3 }), [rand64([1, 4]), rand64([2, 3, 5]), rand64([2, 5, 4])]);
  });

  it("names the bad operands", () => {
    expect(() => E.baddbmm(E.randn([2, 3, 4]), E.randn([2, 3, 5]), E.randn([2, 6, 4]))).toThrow(/baddbmm: inner dims differ: \[2, 3, 5\] @ \[2, 6, 4\]/);
    expect(() => E.baddbmm(E.randn([3, 3]), E.randn([2, 3, 5]), E.randn([2, 5, 4]))).toThrow(/baddbmm: input \[3, 3\] does not broadcast to \[2, 3, 4\]/);
  });
});
