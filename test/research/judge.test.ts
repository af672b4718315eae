import { describe, expect, it } from "vitest";
import { alphaAtLook, judge, pooledSigma, type JudgeRule } from "../../src/research/judge.ts";

// Hand-computed: alpha 0.07 over 3 looks spends 0.04, 0.02, 0.01. Student's t quantiles have closed
// forms at 1 df, tan(pi (p - 1/2)), and at 2 df, (2p - 1) / sqrt(2p (1 - p)):
// 1 df, p 0.04: -7.915815; 2 df, p 0.04: -3.319764, p 0.02: -4.848732, p 0.01: -6.964557.
const rule: JudgeRule = { maxRuns: 3, alpha: 0.07, futility: 1, confirmRuns: 2 };
// Four fresh parent runs, mean 1.0; sigma 0.001, so one test run has standard error 0.001 * sqrt(1 + 1/4) = 0.00111803.
const parent = [0.999, 1.001, 0.9995, 1.0005];
const at = (candidate: number[], freedom: number, extra: object = {}) => judge({ candidate, parent, sigma: 0.001, freedom, rule, ...extra });

describe("judge", () => {
  it("spends alpha over the looks, half of what is left at each", () => {
    expect([1, 2, 3].map((look) => alphaAtLook(0.07, look, 3))).toEqual([0.04, 0.02, 0.01]);
    expect(alphaAtLook(0.05, 1, 1)).toBe(0.05);
  });

  it("tests with Student's t at the noise's degrees of freedom: the same gain fails at 1 df and passes at 2", () => {
    // delta -0.008: t = -0.008 / 0.00111803 = -7.155418.
    const one = at([0.992], 1);
    expect(one.t).toBeCloseTo(-7.155418, 5);
    expect(one.bound).toBeCloseTo(-7.915815, 5);
    expect(one).toMatchObject({ outcome: "inconclusive", rerun: true, next: "test", testRuns: 1, alpha: 0.04 });
    const two = at([0.992], 2);
    expect(two.bound).toBeCloseTo(-3.319764, 5);
    expect(two.threshold).toBeCloseTo(two.bound! * 0.001 * Math.sqrt(1.25), 12);
    expect(two).toMatchObject({ outcome: "improved", rerun: true, next: "confirm", fresh: false, candidate: 0.992, parent: 1, parentRuns: 4 });
  });

  it("closes a clear loser after one run: a tie is no gain, a small gain short of the futility bound is inconclusive", () => {
    expect(at([1.0], 2)).toMatchObject({ outcome: "regressed", rerun: false, next: null, delta: 0, t: 0 });
    expect(at([1.003], 2)).toMatchObject({ outcome: "regressed", rerun: false });
    // delta -0.0005: t = -0.447214, above -1.
    expect(at([0.9995], 2)).toMatchObject({ outcome: "inconclusive", rerun: false, t: expect.closeTo(-0.447214, 5) });
  });

  it("takes the later looks at their smaller alpha, and closes at the last one", () => {
    // Look 2: mean 0.997, standard error 0.001 * sqrt(1/2 + 1/4) = 0.000866025, t = -3.464102 > -4.848732.
    expect(at([0.998, 0.996], 2)).toMatchObject({ outcome: "inconclusive", rerun: true, next: "test", t: expect.closeTo(-3.464102, 5) });
    // Look 3: standard error 0.001 * sqrt(1/3 + 1/4) = 0.000763763.
    // Mean 0.996: t = -5.237229, short of -6.964557 at the last look.
    expect(at([0.998, 0.996, 0.994], 2)).toMatchObject({ outcome: "inconclusive", rerun: false, next: null, alpha: 0.01 });
    // Mean 0.994667: t = -6.982972, past it.
    const passed = at([0.998, 0.996, 0.99], 2);
    expect(passed.t).toBeCloseTo(-6.982972, 5);
    expect(passed).toMatchObject({ outcome: "improved", next: "confirm" });
  });

  it("reports the fresh confirmation runs, not the runs that passed, and merges only if they show a gain too", () => {
    expect(at([0.992], 2, { confirmation: [0.995] })).toMatchObject({ outcome: "improved", rerun: true, next: "confirm", fresh: false });
    const confirmed = at([0.992], 2, { confirmation: [0.995, 0.997] });
    expect(confirmed).toMatchObject({ outcome: "improved", rerun: false, next: null, fresh: true, runs: 2, testRuns: 1 });
    expect(confirmed.candidate).toBeCloseTo(0.996, 12);
    expect(confirmed.delta).toBeCloseTo(-0.004, 12);
    expect(confirmed.testDelta).toBeCloseTo(-0.008, 12);
    const refuted = at([0.992], 2, { confirmation: [1.0, 1.002] });
    expect(refuted).toMatchObject({ outcome: "inconclusive", rerun: false, fresh: true, delta: expect.closeTo(0.001, 12) });
    // With no confirmation runs configured, a pass merges on the test runs and says so.
    expect(judge({ candidate: [0.992], parent, sigma: 0.001, freedom: 2, rule: { ...rule, confirmRuns: 0 } })).toMatchObject({
      outcome: "improved", rerun: false, fresh: false,
    });
  });

  it("crashes whatever the numbers, and refuses to judge without them", () => {
    expect(judge({ candidate: [], parent: [], sigma: 0.001, freedom: 0, rule, crash: "crash: OOM" })).toMatchObject({
      outcome: "crashed", rerun: false, parent: null, candidate: null, delta: null, crash: "crash: OOM",
    });
    expect(() => at([], 2)).toThrow("Expected runs of both the candidate and the parent, got 0 and 4");
    expect(() => at([1], 0)).toThrow("Expected the noise to have degrees of freedom > 0, got `0`");
    expect(() => at([1], 2, { sigma: 0 })).toThrow("Expected `sigma` to be a number > 0, got `0`");
  });
});

describe("pooledSigma", () => {
  it("pools the within-group variance of groups of two or more", () => {
    // Group 1: mean 2, squares 2; group 2: mean 11, squares 2; freedom 1 + 2 = 3 -> sqrt(4/3).
    expect(pooledSigma([[1, 3], [10, 11, 12], [100]])).toBeCloseTo(Math.sqrt(4 / 3), 12);
    expect(pooledSigma([[1], [2]])).toBeNull();
  });
});
