import { describe, expect, it } from "vitest";
import { plan, type Action, type PlanSettings, type ResearchState } from "../../src/research/plan.ts";
import { baseline, experiment, measurement } from "./make-experiment.ts";

const settings: PlanSettings = { concurrency: 3, k: 2, minSigma: 0.0001, baselineRuns: 3, maxRuns: 3, remeasureAfterMerge: true };
const open = { open: true, experimentsLeft: 100 };
const head = { sha: "p0", tree: "t0" };
// Three baseline runs of the head: mean 1.0, sigma 0.001.
const measuredHead = baseline(100, head, [0.999, 1.0, 1.001]);

/** Actions as short strings, to compare whole plans at a glance. */
const summary = (actions: Action[]) =>
  actions.map((a) => {
    if (a.type === "baseline") return `baseline seed=${a.seed}`;
    if (a.type === "propose") return "propose";
    const what = `${a.type} ${a.experiment.n}`;
    if (a.type === "close") return `${what} ${a.outcome}`;
    if (a.type === "rerun") return `${what} seed=${a.seed}`;
    return what;
  });

const state = (experiments: ResearchState["experiments"], extra: Partial<ResearchState> = {}): ResearchState => ({
  head, experiments, epoch: 0, ...extra,
});

describe("plan", () => {
  it("starts with baseline runs of the head, as many as the noise needs and the runners allow", () => {
    expect(summary(plan(state([]), settings, open))).toEqual(["baseline seed=42", "baseline seed=43", "baseline seed=44"]);
    expect(summary(plan(state([]), { ...settings, concurrency: 1 }, open))).toEqual(["baseline seed=42"]);
    // One baseline measured and two running make the three the noise needs: the freed slot goes to a proposal.
    const running = [
      ...baseline(1, head, [1.0]).map((e) => ({ ...e, state: "open" as const, outcome: null })),
      experiment(2, { kind: "baseline", parent: head, head: { sha: "b2", tree: "t0" } }),
      experiment(3, { kind: "baseline", parent: head, head: { sha: "b3", tree: "t0" } }),
    ];
    expect(summary(plan(state(running), settings, open))).toEqual(["close 1 measured", "propose"]);
  });

  it("runs every baseline run one after another at concurrency 1 before the first proposal", () => {
    const one = { ...settings, concurrency: 1 };
    expect(summary(plan(state(baseline(1, head, [1.0])), one, open))).toEqual(["baseline seed=43"]);
    // Two runs already give a sigma (1 degree of freedom), but the third of `baselineRuns` still runs.
    expect(summary(plan(state(baseline(1, head, [1.0, 1.001])), one, open))).toEqual(["baseline seed=44"]);
    expect(summary(plan(state(baseline(1, head, [1.0, 1.001, 0.999])), one, open))).toEqual(["propose"]);
  });

  it("fills free slots with proposals once the head and the noise are measured, within the budget and the gate", () => {
    expect(summary(plan(state(measuredHead), settings, open))).toEqual(["propose", "propose", "propose"]);
    expect(summary(plan(state(measuredHead), settings, { open: true, experimentsLeft: 1 }))).toEqual(["propose"]);
    expect(summary(plan(state([...measuredHead, experiment(1)]), settings, open))).toEqual(["propose", "propose"]);
    expect(summary(plan(state(measuredHead), settings, { open: false, experimentsLeft: 100 }))).toEqual([]);
  });

  it("judges measured experiments: crash, regression, re-run, final inconclusive, and closes measured baselines even when paused", () => {
    const experiments = [
      ...measuredHead,
      experiment(1, { measurements: [measurement("h1", "t1", null)] }),
      experiment(2, { measurements: [measurement("h2", "t2", 1.0005)] }),
      experiment(3, { measurements: [measurement("h3", "t3", 0.9995)] }),
      experiment(4, {
        measurements: [measurement("h4a", "t4", 0.9995), measurement("h4b", "t4", 0.9994), measurement("h4", "t4", 0.9996)],
      }),
      experiment(5, { kind: "baseline", fingerprint: null, head: { sha: "h5", tree: "t0" }, measurements: [measurement("h5", "t0", 1.0)] }),
    ];
    const actions = plan(state(experiments), settings, { open: false, experimentsLeft: 0 });
    expect(summary(actions)).toEqual(["close 1 crashed", "close 2 regressed", "rerun 3 seed=43", "close 4 inconclusive", "close 5 measured"]);
    expect(actions[0]).toMatchObject({ decision: { outcome: "crashed", crash: "crash: RuntimeError: boom" } });
    expect(actions[2]).toMatchObject({ decision: { outcome: "inconclusive", rerun: true, runs: 1 } });
  });

  it("merges the best improvement on the head, rebases the others, and re-measures the new head once", () => {
    const experiments = [
      ...measuredHead,
      experiment(1, { measurements: [measurement("h1", "t1", 0.994)] }),
      experiment(2, { measurements: [measurement("h2", "t2", 0.99)] }),
      experiment(3, { parent: { sha: "old", tree: "t-old" }, measurements: [measurement("h3", "t3", 0.95)] }),
      ...baseline(200, { sha: "old", tree: "t-old" }, [1.0]),
    ];
    const actions = plan(state(experiments), settings, open);
    // Experiment 3 is the best, but its parent is stale; 2 merges, 1 and 3 are re-measured on the new head.
    expect(summary(actions)).toEqual(["merge 2", "rebase 3", "rebase 1", "baseline seed=43"]);
    // The new head already has the merged run, so proposals need not wait for the re-measurement.
    expect(summary(plan(state(experiments), { ...settings, concurrency: 4 }, open))).toEqual([
      "merge 2", "rebase 3", "rebase 1", "baseline seed=43", "propose",
    ]);
    expect(summary(plan(state(experiments), { ...settings, concurrency: 4, remeasureAfterMerge: false }, open))).toEqual([
      "merge 2", "rebase 3", "rebase 1", "propose", "propose",
    ]);
  });

  it("leaves held experiments alone but counts their runs as busy", () => {
    const experiments = [
      ...measuredHead,
      experiment(1, { held: true, measurements: [measurement("h1", "t1", 0.9)] }),
      experiment(2, { held: true }),
    ];
    expect(summary(plan(state(experiments), settings, open))).toEqual(["propose", "propose"]);
  });

  it("re-measures runs from an earlier epoch and waits for the parent's baseline", () => {
    const experiments = [
      ...baseline(100, head, [0.999, 1.0, 1.001], 1),
      experiment(1, { measurements: [measurement("h1", "t1", 0.99)] }), // epoch 0: measured before the re-baseline
      experiment(2, { parent: { sha: "p-new", tree: "t-new" }, measurements: [measurement("h2", "t2", 0.99, { epoch: 1 })] }),
    ];
    const actions = plan(state(experiments, { epoch: 1, head: { sha: "p-new", tree: "t-new" } }), settings, open);
    // 1 re-runs in this epoch; 2 waits for the new head's baseline, which takes the next slot.
    expect(summary(actions)).toEqual(["rerun 1 seed=43", "baseline seed=42"]);
    expect(actions[0]).toMatchObject({ decision: null });
  });

  it("moves an experiment whose stale parent was never measured onto the head", () => {
    const experiments = [...measuredHead, experiment(1, { parent: { sha: "gone", tree: "t-gone" }, measurements: [measurement("h1", "t1", 0.99)] })];
    expect(summary(plan(state(experiments), settings, open))).toEqual(["rebase 1", "propose", "propose"]);
  });

  it("asks for the same steps when run twice on the same state", () => {
    const experiments = [...measuredHead, experiment(1, { measurements: [measurement("h1", "t1", 0.99)] })];
    expect(plan(state(experiments), settings, open)).toEqual(plan(state(experiments), settings, open));
  });
});
