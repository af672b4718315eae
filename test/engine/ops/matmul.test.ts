import { describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { gradcheck, rand64 } from "../gradcheck.ts";

/** Plain triple loop over host arrays: the independent reference. */
function naive(a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number): number[] {
  const out = new Array<number>(M * N).fill(0);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) out[i * N + j] += a[i * K + k] * b[k * N + j];
  return out;
}

describe("matmul", () => {
  E.manualSeed(14);

  it.each([
    [1, 1, 1],
    [7, 5, 3],
    [33, 70, 45],
    [130, 300, 97],
    [20, 1500, 30],
  ])("f32 %ix%i @ %ix? matches a naive loop (packed kernel tails included)", (M, K, N) => {
    const a = E.randn([M, K]), b = E.randn([K, N]);
    const got = E.matmul(a, b).toArray();
    const want = naive(a.toArray(), b.toArray(), M, K, N);
    want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 3));
  });

  it("transposed views and batches give the same values as contiguous copies", () => {
    const a = E.randn([3, 6, 5]), b = E.randn([3, 4, 5]);
    const viaView = E.matmul(a, b.transpose(-2, -1)).toArray();
    const viaCopy = E.matmul(a, b.transpose(-2, -1).contiguous()).toArray();
    viaView.forEach((v, i) => expect(v).toBeCloseTo(viaCopy[i], 4));
    const w = E.randn([4, 5]);
    const lin = E.F.linear(a, w).toArray();
    const ref = E.matmul(a.reshape(18, 5), w.transpose(0, 1).contiguous()).toArray();
    lin.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 4));
  });

  it("a long K with few output tiles (split across threads) matches, transposed inputs included", () => {
    const a = E.randn([1200, 40]), b = E.randn([1200, 24]);
    const got = E.matmul(a.transpose(0, 1), b).toArray();
    const want = naive(a.transpose(0, 1).contiguous().toArray(), b.toArray(), 40, 1200, 24);
    want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 2));
  });

  it("a short, wide output over a long K (computed as its transpose) matches, f32 and bf16", () => {
    const a = E.randn([1100, 40]), b = E.randn([1100, 1030]);
    const want = naive(a.transpose(0, 1).contiguous().toArray(), b.toArray(), 40, 1100, 1030);
    const got = E.matmul(a.transpose(0, 1), b).toArray();
    want.forEach((w, i) => expect(Math.abs(got[i] - w)).toBeLessThan(1e-3 * Math.max(1, Math.abs(w))));
    const [ab, bb] = [a.to("bf16"), b.to("bf16")];
    const wantBf16 = naive(ab.transpose(0, 1).contiguous().toArray(), bb.toArray(), 40, 1100, 1030);
    const gotBf16 = E.matmul(ab.transpose(0, 1), bb).toArray();
    wantBf16.forEach((w, i) => expect(Math.abs(gotBf16[i] - w)).toBeLessThanOrEqual(2 ** -8 * Math.abs(w) + 1e-3));
  });

  it("bf16 inputs accumulate in fp32", () => {
    const a = E.randn([16, 64]), b = E.randn([64, 8]);
    const got = E.matmul(a.to("bf16"), b.to("bf16")).toArray();
    const want = naive(a.to("bf16").toArray(), b.to("bf16").toArray(), 16, 64, 8);
    want.forEach((w, i) => expect(Math.abs(got[i] - w)).toBeLessThan(0.05 * Math.max(1, Math.abs(w))));
  });

  it("bf16 output over a long K is rounded once, not once per K block", () => {
    const M = 96, K = 2048, N = 256; // enough output tiles to skip the split-K path
    const a = E.randn([M, K]).to("bf16"), b = E.randn([K, N]).to("bf16");
    const got = E.matmul(a, b).toArray();
    const want = naive(a.toArray(), b.toArray(), M, K, N);
    // One rounding to bf16 is at most half an ulp: 2^-8 of the value; fp32 summation adds far less.
    want.forEach((w, i) => expect(Math.abs(got[i] - w)).toBeLessThanOrEqual(2 ** -8 * Math.abs(w) + 1e-3));
  });

  it("gradients match finite differences: 2-D, batched, broadcast weight, transposed views", () => {
    gradcheck((a, b) => E.matmul(a, b), [rand64([3, 4]), rand64([4, 2])]);
    gradcheck((a, b) => E.matmul(a, b), [rand64([2, 3, 4]), rand64([2, 4, 5])]);
    gradcheck((x, w) => E.F.linear(x, w), [rand64([2, 3, 4]), rand64([5, 4])]);
    gradcheck((a, b) => E.matmul(a.transpose(-2, -1), b), [rand64([2, 4, 3]), rand64([2, 4, 2])]);
  });
});
