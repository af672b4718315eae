/**
 * Runner overhead with warm caches: from the start of the action's process to the first
 * training step, and from the end of training to result.json (which includes the evaluator).
 * Runs the bundled action on a temporary repository, as a self-hosted runner does.
 * Targets on the GPU runner: under 30 s and under 20 s.
 *
 *   npm run bench:runner [-- --profile test|cpu] [--runs N]
 *
 * Prints a table, then one JSON line with every figure.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { makeExperimentRepo, editTrain } from "../test/runner/experiment-repo.ts";
import { runActionEntry, warmCaches } from "../test/action/action-entry.ts";

const { values } = parseArgs({ options: { profile: { type: "string", default: "test" }, runs: { type: "string", default: "3" } } });
const profile = values.profile!;
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`Expected \`--runs\` to be an integer >= 1, got \`${values.runs}\``);
const TARGETS = { startToFirstStep: 30, trainEndToResult: 20 };

const repo = await makeExperimentRepo({ linkBuild: false });
const cacheDir = join(repo.root, "cache");
await warmCaches(repo, cacheDir, [profile]);
const head = await repo.commit({ "train.ts": editTrain([["// Hyperparameters (edit these directly)", "// Hyperparameters (edit these directly; bench)"]]) }, "bench");

type Timings = { dependencies: number; addon: number; data: number; firstStep: number; trainEnd: number; resultWritten: number };
const samples: Timings[] = [];
for (let i = 0; i < runs; i++) {
  const run = await runActionEntry(repo, join(repo.root, `run-${i}`), { "head-sha": head, profile, "cache-dir": cacheDir });
  if (run.result.status !== "ok") throw new Error(`Expected an ok run, got ${run.result.status}: ${run.result.reason}\n${run.output.slice(-2000)}`);
  const timings = JSON.parse(/timings \(s since the action started\): (.*)/.exec(run.output)![1]) as Timings;
  samples.push(timings);
  console.error(`run ${i + 1}/${runs}: first step at ${timings.firstStep.toFixed(2)} s, result ${(timings.resultWritten - timings.trainEnd).toFixed(2)} s after training`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const phase = (f: (t: Timings) => number) => median(samples.map(f));
const figures = {
  dependencies_s: phase((t) => t.dependencies),
  addon_s: phase((t) => t.addon - t.dependencies),
  data_s: phase((t) => t.data - t.addon),
  runner_to_first_step_s: phase((t) => t.firstStep - t.data),
  start_to_first_step_s: phase((t) => t.firstStep),
  train_end_to_result_s: phase((t) => t.resultWritten - t.trainEnd),
};
const rows: [string, number, number | null][] = [
  ["  node_modules check", figures.dependencies_s, null],
  ["  addon (cache hit)", figures.addon_s, null],
  ["  data (prepared)", figures.data_s, null],
  ["  guards, run dir, train.ts start", figures.runner_to_first_step_s, null],
  ["action start -> first training step", figures.start_to_first_step_s, TARGETS.startToFirstStep],
  ["training end -> result.json", figures.train_end_to_result_s, TARGETS.trainEndToResult],
];
console.log(`runner overhead, profile ${profile}, median of ${runs} run(s), warm caches, CPU (${process.platform}-${process.arch})`);
console.log(`${"phase".padEnd(38)}${"seconds".padStart(9)}${"GPU target".padStart(12)}`);
for (const [label, value, target] of rows) console.log(`${label.padEnd(38)}${value.toFixed(2).padStart(9)}${(target === null ? "" : `< ${target}`).padStart(12)}`);
console.log(JSON.stringify({
  bench: "runner",
  profile,
  runs,
  ...Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Number(v.toFixed(3))])),
  ratio_start_to_first_step_vs_target: Number((figures.start_to_first_step_s / TARGETS.startToFirstStep).toFixed(3)),
  ratio_train_end_to_result_vs_target: Number((figures.train_end_to_result_s / TARGETS.trainEndToResult).toFixed(3)),
}));
