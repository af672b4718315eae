/**
 * Runner overhead with warm caches: from the start of the action's process to the first
 * training step, and from the end of training to result.json (which includes the evaluator),
 * with the bubblewrap sandbox (the default) and without it (`no-sandbox`), side by side.
 * Runs the bundled action on a temporary repository, as a self-hosted runner does, the two
 * modes taking turns. Targets on the GPU runner: under 30 s and under 20 s; the sandbox adds
 * under 1 s to each.
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
const TARGETS = { startToFirstStep: 30, trainEndToResult: 20, sandboxAdded: 1 };

const repo = await makeExperimentRepo({ linkBuild: false });
const cacheDir = join(repo.root, "cache");
await warmCaches(repo, cacheDir, [profile]);
const head = await repo.commit({ "train.ts": editTrain([["// Hyperparameters (edit these directly)", "// Hyperparameters (edit these directly; bench)"]]) }, "bench");

type Timings = { dependencies: number; addon: number; data: number; firstStep: number; trainEnd: number; resultWritten: number };
const MODES = { sandbox: "false", unsandboxed: "true" } as const;
const samples: Record<keyof typeof MODES, Timings[]> = { sandbox: [], unsandboxed: [] };
for (let i = 0; i < runs; i++) {
  for (const [mode, noSandbox] of Object.entries(MODES) as [keyof typeof MODES, string][]) {
    const run = await runActionEntry(repo, join(repo.root, `run-${i}-${mode}`), { "head-sha": head, profile, "cache-dir": cacheDir, "no-sandbox": noSandbox });
    if (run.result.status !== "ok") throw new Error(`Expected an ok run, got ${run.result.status}: ${run.result.reason}\n${run.output.slice(-2000)}`);
    const line = /timings \(s since the action started\): (.*)/.exec(run.output);
    if (!line) throw new Error(`Expected the action to print its timings, got:\n${run.output.slice(-3000)}`);
    const timings = JSON.parse(line[1]!) as Timings;
    samples[mode].push(timings);
    console.error(`run ${i + 1}/${runs} ${mode}: first step at ${timings.firstStep.toFixed(2)} s, result ${(timings.resultWritten - timings.trainEnd).toFixed(2)} s after training`);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const figuresOf = (list: Timings[]) => {
  const phase = (f: (t: Timings) => number) => median(list.map(f));
  return {
    dependencies_s: phase((t) => t.dependencies),
    addon_s: phase((t) => t.addon - t.dependencies),
    data_s: phase((t) => t.data - t.addon),
    runner_to_first_step_s: phase((t) => t.firstStep - t.data),
    start_to_first_step_s: phase((t) => t.firstStep),
    train_end_to_result_s: phase((t) => t.resultWritten - t.trainEnd),
  };
};
const sandbox = figuresOf(samples.sandbox);
const unsandboxed = figuresOf(samples.unsandboxed);
const added = { start_to_first_step_s: sandbox.start_to_first_step_s - unsandboxed.start_to_first_step_s, train_end_to_result_s: sandbox.train_end_to_result_s - unsandboxed.train_end_to_result_s };

const rows: [string, keyof typeof sandbox, string][] = [
  ["  node_modules check", "dependencies_s", ""],
  ["  addon (cache hit)", "addon_s", ""],
  ["  data (prepared)", "data_s", ""],
  ["  guards, run dir, train.ts start", "runner_to_first_step_s", ""],
  ["action start -> first training step", "start_to_first_step_s", `< ${TARGETS.startToFirstStep}`],
  ["training end -> result.json", "train_end_to_result_s", `< ${TARGETS.trainEndToResult}`],
];
const cell = (value: number, width: number) => value.toFixed(2).padStart(width);
console.log(`runner overhead, profile ${profile}, median of ${runs} run(s) per mode, warm caches, CPU (${process.platform}-${process.arch})`);
console.log(`${"phase (seconds)".padEnd(38)}${"sandbox".padStart(9)}${"none".padStart(9)}${"added".padStart(9)}${"GPU target".padStart(12)}`);
for (const [label, key, target] of rows) {
  console.log(`${label.padEnd(38)}${cell(sandbox[key], 9)}${cell(unsandboxed[key], 9)}${cell(sandbox[key] - unsandboxed[key], 9)}${target.padStart(12)}`);
}
console.log(`sandbox target: under ${TARGETS.sandboxAdded} s added to each of the two overheads`);
const round = (figures: Record<string, number>) => Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Number(v.toFixed(3))]));
console.log(JSON.stringify({
  bench: "runner",
  profile,
  runs,
  ...round(sandbox),
  unsandboxed: round(unsandboxed),
  sandbox_added_start_to_first_step_s: Number(added.start_to_first_step_s.toFixed(3)),
  sandbox_added_train_end_to_result_s: Number(added.train_end_to_result_s.toFixed(3)),
  ratio_start_to_first_step_vs_target: Number((sandbox.start_to_first_step_s / TARGETS.startToFirstStep).toFixed(3)),
  ratio_train_end_to_result_vs_target: Number((sandbox.train_end_to_result_s / TARGETS.trainEndToResult).toFixed(3)),
  ratio_sandbox_added_vs_target: Number((Math.max(added.start_to_first_step_s, added.train_end_to_result_s) / TARGETS.sandboxAdded).toFixed(3)),
}));
