import { describe, expect, it } from "vitest";
import { judge, pooledSigma } from "../../src/research/judge.ts";

describe("judge", () => {
  const base = { sigma: 0.001, k: 2, maxRuns: 3 };

  it("improves when the gain clears k sigma of the difference of means", () => {
    // 1 run vs 3 parent runs: noise = 0.001 * sqrt(1 + 1/3) = 0.0011547; threshold = 0.0023094.
    const decision = judge({ ...base, candidate: [0.995], parent: [0.998, 0.997, 0.999] });
    expect(decision.outcome).toBe("improved");
    expect(decision.parent).toBeCloseTo(0.998, 12);
    expect(decision.delta).toBeCloseTo(-0.003, 12);
    expect(decision.threshold).toBeCloseTo(0.0023094011, 9);
    expect(decision).toMatchObject({ rerun: false, runs: 1, parentRuns: 3, crash: null });
  });

  it("re-runs a gain within the noise while runs are left, then calls it inconclusive", () => {
    const first = judge({ ...base, candidate: [0.997], parent: [0.998, 0.997, 0.999] });
    expect(first).toMatchObject({ outcome: "inconclusive", rerun: true });
    const last = judge({ ...base, candidate: [0.997, 0.9972, 0.9968], parent: [0.998, 0.997, 0.999] });
    expect(last).toMatchObject({ outcome: "inconclusive", rerun: false, runs: 3 });
    // Three runs shrink the noise: sqrt(1/3 + 1/3) * 0.001 * 2 = 0.0016330 < 0.002 gain.
    expect(judge({ ...base, candidate: [0.996, 0.9962, 0.9958], parent: [0.998, 0.997, 0.999] }).outcome).toBe("improved");
  });

  it("regresses at no gain, and crashes whatever the numbers", () => {
    expect(judge({ ...base, candidate: [0.998], parent: [0.998] }).outcome).toBe("regressed");
    expect(judge({ ...base, candidate: [1.2], parent: [0.998] })).toMatchObject({ outcome: "regressed", delta: expect.closeTo(0.202, 9) });
    expect(judge({ ...base, candidate: [], parent: [], crash: "crash: OOM" })).toMatchObject({
      outcome: "crashed", rerun: false, parent: null, candidate: null, delta: null, crash: "crash: OOM",
    });
  });

  it("refuses to judge without numbers", () => {
    expect(() => judge({ ...base, candidate: [1], parent: [] })).toThrow("Expected runs of both the candidate and the parent, got 1 and 0");
    expect(() => judge({ ...base, sigma: 0, candidate: [1], parent: [1] })).toThrow("Expected `sigma` to be a number > 0, got `0`");
  });
});

describe("pooledSigma", () => {
  it("pools the within-group variance of groups of two or more", () => {
    // Group 1: mean 2, squares 2; group 2: mean 11, squares 2; freedom 1 + 2 = 3 -> sqrt(4/3).
    expect(pooledSigma([[1, 3], [10, 11, 12], [100]])).toBeCloseTo(Math.sqrt(4 / 3), 12);
    expect(pooledSigma([[1], [2]])).toBeNull();
  });
});
