import { describe, expect, it } from "vitest";
import { Ledger } from "../../src/research/ledger.ts";
import { judge } from "../../src/research/judge.ts";
import { baseline, experiment, measurement } from "./make-experiment.ts";

const head = { sha: "p0", tree: "t0" };

describe("Ledger", () => {
  // Passed on its first run, then confirmed by two fresh ones.
  const rule = { maxRuns: 3, alpha: 0.07, futility: 1, confirmRuns: 2 };
  const decision = { ...judge({ candidate: [0.99], confirmation: [0.992, 0.994], parent: [1, 1.002], sigma: 0.001, freedom: 2, rule }), tree: "t5" };
  const experiments = [
    ...baseline(1, head, [1.0, 1.002]),
    ...baseline(3, head, [0.9], -1), // an earlier epoch: ignored
    experiment(5, {
      state: "merged", outcome: "improved", decision,
      measurements: [measurement("h5", "t5", 0.99), measurement("h5b", "t5", 0.992), measurement("h5c", "t5", 0.994)],
    }),
    experiment(6, { state: "closed", outcome: "crashed", measurements: [measurement("h6", "t6", null, { reason: "OOM" })] }),
    experiment(7, { state: "closed", outcome: "regressed", measurements: [measurement("h7", "t7", 1.01)] }),
    experiment(8, { state: "closed", outcome: "inconclusive", measurements: [measurement("h8", "t8", 0.9995), measurement("h8b", "t8", 0.9997)] }),
    experiment(9),
  ];
  const ledger = new Ledger(experiments, 0);

  it("groups runs by tree in the current epoch and pools the noise", () => {
    expect(ledger.runsOf("t0")).toEqual([1.0, 1.002]);
    expect(ledger.runsOf("t8")).toEqual([0.9995, 0.9997]);
    expect(ledger.runsOf("t6")).toEqual([]);
    expect(ledger.runsOf("t5")).toEqual([0.99, 0.992, 0.994]);
    // Squares: 2 * 0.001^2 + 8e-6 + 2 * 0.0001^2 over 1 + 2 + 1 degrees of freedom.
    expect(ledger.sigma()).toBeCloseTo(Math.sqrt((2e-6 + 8e-6 + 2e-8) / 4), 12);
    expect(ledger.noiseFreedom()).toBe(4);
    expect(new Ledger(experiments, 1).sigma()).toBeNull();
    expect(new Ledger(experiments, 1).noiseFreedom()).toBe(0);
  });

  it("leaves the test runs that won a merge out of the code's fresh runs", () => {
    expect(ledger.freshRunsOf("t5")).toEqual([0.992, 0.994]);
    expect(ledger.freshRunsOf("t0")).toEqual([1.0, 1.002]);
  });

  it("lists experiments for the agent, counts outcomes and ranks kept changes", () => {
    const entries = ledger.entries();
    expect(entries.map((e) => [e.n, e.outcome, e.valBpb])).toEqual([
      [5, "improved", expect.closeTo(0.993, 12)], // the fresh value, not the run that passed
      [6, "crashed", null],
      [7, "regressed", 1.01],
      [8, "inconclusive", expect.closeTo(0.9996, 12)],
      [9, "running", null],
    ]);
    expect(entries[1]!.crash).toBe("crash: OOM");
    expect(entries[0]!.delta).toBeCloseTo(-0.008, 12);
    expect(ledger.counts()).toEqual({ kept: 1, discarded: 1, crashed: 1, inconclusive: 1, running: 1 });
    expect(ledger.leaderboard().map((e) => e.n)).toEqual([5]);
  });
});
