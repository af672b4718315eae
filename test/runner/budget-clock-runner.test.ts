// The budget clock through the real runner, on the test profile: an honest run, and train.ts
// variants (derived from the current train.ts) that try to train past the budget.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { PROFILES } from "../../src/data/profiles.ts";
import { budgetAllowances } from "../../src/runner/budget-clock.ts";
import { runExperiment, type RunExperimentOptions } from "../../src/runner/run-experiment.ts";
import { editTrain, makeExperimentRepo, testProfileRuns, type ExperimentRepo } from "./experiment-repo.ts";

let repo: ExperimentRepo;
let options: (head: string, name: string) => RunExperimentOptions;
const BUDGET = PROFILES.test!.TIME_BUDGET;
const { step, tolerance } = budgetAllowances(BUDGET);

beforeAll(async () => {
  repo = await makeExperimentRepo({ linkBuild: true });
  options = await testProfileRuns(repo);
}, 60_000);

const STOP = "if (total_training_time >= TIME_BUDGET) break;";
const PAST_BUDGET = /^budget: trained past TIME_BUDGET: the cpu clock read [\d.]+ s, over TIME_BUDGET 5 s \+ 2 steps of [\d.]+ s \+ [\d.]+ s tolerance$/;

describe("the budget clock under the runner", () => {
  it("lets an honest run train TIME_BUDGET of CPU time, and records the clock and the CPU share", async () => {
    const head = await repo.commit({ "train.ts": editTrain([[STOP, `${STOP} // honest`]]) }, "honest");
    const { result, logPath } = await runExperiment(options(head, "honest"));
    expect(result).toMatchObject({ status: "ok", budget_clock: "cpu", reason: null });
    expect(result.training_seconds).toBeGreaterThanOrEqual(BUDGET);
    expect(result.training_seconds).toBeLessThan(BUDGET + step);
    expect(result.cpu_share).toBeGreaterThan(0);
    expect(result.cpu_share).toBeLessThanOrEqual(1.05);
    const log = readFileSync(logPath, "utf8");
    expect(log).toMatch(/^\[runner\] budget: TIME_BUDGET 5 s of the run's CPU time \/ \d+ threads, from the first step/m);
    expect(log).toMatch(/^budget_clock: {5}cpu$/m);
  });

  it("stops and rejects a train.ts that trains on by its own clock", async () => {
    const head = await repo.commit({ "train.ts": editTrain([[STOP, "if (total_training_time >= 4 * TIME_BUDGET) break;"]]) }, "four budgets");
    const { result } = await runExperiment(options(head, "own-clock"));
    expect(result).toMatchObject({ status: "rejected", val_bpb: null, budget_clock: "cpu" });
    expect(result.reason).toMatch(PAST_BUDGET);
    expect(Number(/read ([\d.]+) s/.exec(result.reason!)![1])).toBeLessThanOrEqual(BUDGET + 2 * step + tolerance + 0.5);
  });

  it("starts the clock after the setup allowance for a train.ts that hides its steps, and stops it", async () => {
    const head = await repo.commit(
      { "train.ts": editTrain([["  logProgress(\n", "  [].push(\n"], [STOP, "if (step > 1e9) break;"]]) },
      "no step lines, no stop",
    );
    const { result } = await runExperiment(options(head, "hidden-steps"));
    expect(result).toMatchObject({ status: "rejected", val_bpb: null });
    expect(result.reason).toMatch(PAST_BUDGET);
  });
});
