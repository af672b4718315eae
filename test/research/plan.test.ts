import { describe, expect, it } from "vitest";
import { judge } from "../../src/research/judge.ts";
import { plan, type Action, type PlanSettings, type ResearchState } from "../../src/research/plan.ts";
import { baseline, experiment, measurement } from "./make-experiment.ts";

const settings: PlanSettings = { concurrency: 3, baselineRuns: 3, maxRuns: 3, alpha: 0.07, futility: 1, confirmRuns: 2, minSigma: 0 };
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
      experiment(3, { measurements: [measurement("h3", "t3", 0.9985)] }),
      experiment(4, {
        measurements: [measurement("h4a", "t4", 0.9995), measurement("h4b", "t4", 0.9994), measurement("h4", "t4", 0.9996)],
      }),
      experiment(5, { kind: "baseline", fingerprint: null, head: { sha: "h5", tree: "t0" }, measurements: [measurement("h5", "t0", 1.0)] }),
    ];
    const actions = plan(state(experiments), settings, { open: false, experimentsLeft: 0 });
    expect(summary(actions)).toEqual(["close 1 crashed", "close 2 regressed", "rerun 3 seed=43", "close 4 inconclusive", "close 5 measured"]);
    expect(actions[0]).toMatchObject({ decision: { outcome: "crashed", crash: "crash: RuntimeError: boom" } });
    expect(actions[2]).toMatchObject({ decision: { outcome: "inconclusive", rerun: true, next: "test", testRuns: 1, tree: "t3" } });
  });

  it("confirms a change that passed the test with fresh runs before it merges, and closes one they refute", () => {
    // 0.99 against 1.0 over 3 runs: t = -0.01 / (0.001 * sqrt(4/3)) = -8.66, past -3.32 (2 df, alpha 0.04).
    const passed = [...measuredHead, experiment(1, { measurements: [measurement("h1", "t1", 0.99)] })];
    const first = plan(state(passed), settings, open);
    expect(summary(first)).toEqual(["rerun 1 seed=43", "propose", "propose"]);
    expect(first[0]).toMatchObject({ decision: { outcome: "improved", rerun: true, next: "confirm", fresh: false, testRuns: 1, tree: "t1" } });
    const stored = (first[0] as { decision: NonNullable<ResearchState["experiments"][0]["decision"]> }).decision;

    const confirming = (values: number[]) => [
      ...measuredHead,
      experiment(1, { decision: stored, measurements: [measurement("h1", "t1", 0.99), ...values.map((v, i) => measurement(`h1c${i}`, "t1", v))] }),
    ];
    expect(summary(plan(state(confirming([0.994])), settings, open))).toEqual(["rerun 1 seed=44", "propose", "propose"]);
    const merge = plan(state(confirming([0.994, 0.996])), settings, open);
    // The reported delta is the fresh one: mean 0.995 of the confirmation runs, not 0.99 of the run that passed.
    expect(merge[0]).toMatchObject({ type: "merge", decision: { outcome: "improved", fresh: true, runs: 2, testRuns: 1 } });
    expect((merge[0] as { decision: { delta: number } }).decision.delta).toBeCloseTo(-0.005, 12);
    // The new head has 2 fresh runs (the confirmation runs) of the 3 it needs: one baseline, then a proposal.
    expect(summary(merge)).toEqual(["merge 1", "baseline seed=45", "propose", "propose"]);
    expect(summary(plan(state(confirming([1.0, 1.002])), settings, open))).toEqual(["close 1 inconclusive", "propose", "propose", "propose"]);
  });

  it("judges the first experiment after a merge against the new head's fresh runs, not the run that won", () => {
    const won = judge({ candidate: [0.99], confirmation: [0.994, 0.996], parent: [0.999, 1.0, 1.001], sigma: 0.001, freedom: 2, rule: settings });
    const newHead = { sha: "p1", tree: "t1" };
    const experiments = [
      ...measuredHead,
      experiment(1, {
        state: "merged", outcome: "improved", decision: { ...won, tree: "t1" },
        measurements: [measurement("h1", "t1", 0.99), measurement("h1b", "t1", 0.994), measurement("h1c", "t1", 0.996)],
      }),
      ...baseline(10, newHead, [0.995]),
      experiment(11, { parent: newHead, measurements: [measurement("h11", "t11", 0.9955)] }),
    ];
    const actions = plan(state(experiments, { head: newHead }), settings, open);
    // Parent: 0.994, 0.996 and 0.995 (mean 0.995 over 3); the test run 0.99 is left out.
    expect(actions[0]).toMatchObject({ type: "close", decision: { outcome: "regressed", parentRuns: 3, testRuns: 1 } });
    expect((actions[0] as { decision: { parent: number } }).decision.parent).toBeCloseTo(0.995, 12);
    expect(summary(actions)).toEqual(["close 11 regressed", "propose", "propose", "propose"]);
  });

  it("merges the best confirmed change on the head and tests the others again on the new head", () => {
    const confirmedOn = (n: number, parent: { sha: string; tree: string }, test: number, fresh: number[]) => {
      const tree = `t${n}`;
      const decision = { ...judge({ candidate: [test], confirmation: [], parent: [1, 1, 1], sigma: 0.001, freedom: 2, rule: settings }), tree };
      return experiment(n, {
        parent, decision,
        measurements: [measurement(`h${n}`, tree, test), ...fresh.map((v, i) => measurement(`h${n}c${i}`, tree, v))],
      });
    };
    const old = { sha: "old", tree: "t-old" };
    const experiments = [
      ...measuredHead,
      ...baseline(200, old, [1.0]),
      confirmedOn(1, head, 0.99, [0.996, 0.996]),
      confirmedOn(2, head, 0.99, [0.994, 0.994]),
      confirmedOn(3, old, 0.95, [0.95, 0.95]),
      confirmedOn(4, old, 0.99, []),
    ];
    const actions = plan(state(experiments), settings, open);
    // 3 is the best but measured on a stale parent, 4 passed there but cannot be confirmed there: both move to the new head.
    expect(summary(actions)).toEqual(["merge 2", "rebase 4", "rebase 3", "rebase 1"]);
    // A fourth runner measures the new head: it has the 2 confirmation runs of 2, not its test run.
    expect(summary(plan(state(experiments), { ...settings, concurrency: 4 }, open)).at(-1)).toBe("baseline seed=45");
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
    // 1 re-runs in this epoch; 2 waits for the new head's baselines, which take the other slots.
    expect(summary(actions)).toEqual(["rerun 1 seed=43", "baseline seed=42", "baseline seed=43"]);
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
