/**
 * How much other work on the machine moves a run's result under the budget clock: N runs of
 * the same train.ts (seed fixed) at rest and N with two busy processes of the benchmark's
 * own beside it, taking turns, each through the real runner. Prints every run, then the mean
 * and σ of val_bpb and of the step count per condition, next to the targets (the mean shift
 * under load below σ at rest; σ under load at most 1.5x σ at rest) and to the wall clock's
 * figures from issue 15, then one JSON line.
 *
 *   npm run bench:noise [-- --runs N] [--profile cpu|test]
 *
 * "At rest" means without the benchmark's load: whatever else the machine runs stays, so the
 * load average and each run's CPU share are printed to say what the runs actually saw.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { execa } from "execa";
import { runExperiment } from "../src/runner/run-experiment.ts";
import { editTrain, makeExperimentRepo, PROJECT } from "../test/runner/experiment-repo.ts";

const { values } = parseArgs({ options: { profile: { type: "string", default: "cpu" }, runs: { type: "string", default: "3" } } });
const profile = values.profile!;
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 2) throw new Error(`Expected \`--runs\` to be an integer >= 2, got \`${values.runs}\``);
const BUSY_PROCESSES = 2;
// Issue 15, the cpu profile on the wall clock, seed 42, 2 cores: σ at rest and the shift under two busy processes.
const WALL_CLOCK = { sigmaRest: 0.007, shiftUnderLoad: 0.066 };

const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

/** Starts the benchmark's load: processes that spin until killed. */
function startLoad(): () => void {
  const busy = Array.from({ length: BUSY_PROCESSES }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
  return () => busy.forEach((child) => child.kill("SIGKILL"));
}

const repo = await makeExperimentRepo({ linkBuild: true });
const cacheDir = join(repo.root, "cache");
await execa(process.execPath, ["--import", "tsx", "prepare.ts", "--profile", profile], { cwd: PROJECT, env: { ...process.env, AUTORESEARCH_CACHE_DIR: cacheDir } });
const head = await repo.commit({ "train.ts": editTrain([["// Hyperparameters (edit these directly)", "// Hyperparameters (edit these directly; bench:noise)"]]) }, "bench:noise");

type Condition = "rest" | "load";
interface Run {
  condition: Condition;
  valBpb: number;
  steps: number;
  trainingSeconds: number;
  cpuShare: number | null;
  wallSeconds: number;
  loadAverage: string;
}
const done: Run[] = [];
const loadAtStart = loadAverage();
console.log(`bench:noise: ${runs} runs per condition of the ${profile} profile, seed 42; load average at the start ${loadAtStart}`);
console.log("condition  val_bpb   steps  training_s  cpu_share  wall_s  load average");
for (let i = 0; i < runs; i++) {
  for (const condition of ["rest", "load"] as const) {
    const stopLoad = condition === "load" ? startLoad() : () => {};
    try {
      const { result } = await runExperiment({
        harnessDir: repo.harnessDir, repoDir: repo.repoDir, baseSha: repo.baseSha, headSha: head, profile, cacheDir, outDir: join(repo.root, `${condition}-${i}`),
      });
      if (result.status !== "ok") throw new Error(`Expected the run to be ok, got ${result.status}: ${result.reason}`);
      const run: Run = {
        condition, valBpb: result.val_bpb!, steps: result.num_steps, trainingSeconds: result.training_seconds,
        cpuShare: result.cpu_share ?? null, wallSeconds: result.total_seconds, loadAverage: loadAverage(),
      };
      done.push(run);
      console.log(
        `${condition.padEnd(9)}  ${run.valBpb.toFixed(4)}  ${String(run.steps).padStart(6)}  ${run.trainingSeconds.toFixed(1).padStart(10)}  ` +
          `${run.cpuShare?.toFixed(2).padStart(9) ?? "      n/a"}  ${run.wallSeconds.toFixed(0).padStart(6)}  ${run.loadAverage}`,
      );
    } finally {
      stopLoad();
    }
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sigma = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? null;
const stats = (condition: Condition) => {
  const of = done.filter((r) => r.condition === condition);
  const bpb = of.map((r) => r.valBpb);
  const steps = of.map((r) => r.steps);
  return {
    val_bpb_mean: mean(bpb), val_bpb_sigma: sigma(bpb), steps_mean: mean(steps), steps_sigma: sigma(steps),
    cpu_share_median: median(of.flatMap((r) => (r.cpuShare === null ? [] : [r.cpuShare]))), wall_seconds_mean: mean(of.map((r) => r.wallSeconds)),
  };
};
const rest = stats("rest");
const load = stats("load");
const shift = load.val_bpb_mean - rest.val_bpb_mean;
const sigmaRatio = load.val_bpb_sigma / rest.val_bpb_sigma;
const targets = { shiftBelowSigmaRest: Math.abs(shift) < rest.val_bpb_sigma, sigmaRatioAtMost1_5: sigmaRatio <= 1.5 };

console.log("");
console.log("condition  val_bpb mean ± σ     steps mean ± σ   CPU share (median)  wall s (mean)");
for (const [name, s] of [["rest", rest], ["load", load]] as const) {
  console.log(
    `${name.padEnd(9)}  ${s.val_bpb_mean.toFixed(4)} ± ${s.val_bpb_sigma.toFixed(4)}   ${s.steps_mean.toFixed(1).padStart(6)} ± ${s.steps_sigma.toFixed(1).padEnd(5)}   ` +
      `${s.cpu_share_median?.toFixed(2) ?? "n/a"}                ${s.wall_seconds_mean.toFixed(0)}`,
  );
}
console.log(`mean shift under load: ${shift >= 0 ? "+" : ""}${shift.toFixed(4)} (target: |shift| < σ at rest = ${rest.val_bpb_sigma.toFixed(4)}: ${targets.shiftBelowSigmaRest ? "met" : "not met"}; the wall clock: +${WALL_CLOCK.shiftUnderLoad} against σ ${WALL_CLOCK.sigmaRest})`);
console.log(`σ under load / σ at rest: ${sigmaRatio.toFixed(2)} (target: <= 1.5: ${targets.sigmaRatioAtMost1_5 ? "met" : "not met"})`);
console.log(`load average at the start ${loadAtStart}, at the end ${loadAverage()}`);
console.log(
  JSON.stringify({
    bench: "noise", profile, runs_per_condition: runs, busy_processes: BUSY_PROCESSES, rest, load, shift, shift_over_sigma_rest: shift / rest.val_bpb_sigma,
    sigma_ratio: sigmaRatio, targets, wall_clock_issue_15: WALL_CLOCK, load_average_start: loadAtStart, load_average_end: loadAverage(), runs: done,
  }),
);
