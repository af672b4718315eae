import { join } from "node:path";
import type { Agent } from "../research/agent.ts";
import { measurementFromResult, type Experiment } from "../research/experiment.ts";
import { nightStart, runName } from "../research/gate.ts";
import type { PlanSettings } from "../research/plan.ts";
import { decisionHeadline } from "../research/render-decision.ts";
import { researchStep, type StepReport } from "../research/research-step.ts";
import { runExperiment, type ExperimentRun } from "../runner/run-experiment.ts";
import { CliError, EXIT } from "./cli-error.ts";
import { GitForge } from "./git-forge.ts";
import { LOCAL_FILES } from "./local-files.ts";
import type { WorkRepo } from "./open-work-repo.ts";
import type { ProgressDisplay } from "./progress-display.ts";

/** Proposals that may fail in a row before the loop gives up on the agent. */
export const MAX_FAILED_PROPOSALS = 3;

/** What the local loop needs. */
export interface RunLocalOptions {
  repo: WorkRepo;
  /** The trusted harness every run uses (this package: prepare.ts, src, node_modules, build). */
  harnessDir: string;
  /** The runner's profile name: `default`, `cpu` or `test`. */
  profile: string;
  /** New experiments this run may start (baseline runs not counted). */
  experiments: number;
  agent: Agent;
  settings: PlanSettings;
  display: ProgressDisplay;
  /** True once Ctrl-C asked the loop to stop; it then stops after the current step. */
  stopRequested: () => boolean;
  /**
   * Aborted to stop at once (a second Ctrl-C): the run in progress is killed with its process
   * group and not recorded. A research step in progress still finishes, since it writes the
   * repository in steps that must not be cut (a merge, then the state that records it).
   */
  signal?: AbortSignal;
  /** The data cache (AUTORESEARCH_CACHE_DIR) and source (AUTORESEARCH_DATA), if not the defaults. */
  cacheDir?: string;
  dataSource?: string;
  /** Train without the sandbox (`--no-sandbox`; see runExperiment). */
  noSandbox?: boolean;
  now?: () => Date;
}

const elapsed = (since: number) => {
  const s = Math.round((performance.now() - since) / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
};

/** One line per action of a research step, for the display. */
function describe(report: StepReport, head: string): string[] {
  return report.actions.flatMap((action) => {
    if (action.type === "merge") return [`[${action.experiment.n}] kept: ${decisionHeadline(action.decision)}; merged into ${head}`];
    if (action.type === "close" && action.experiment.kind === "experiment") {
      return [`[${action.experiment.n}] ${action.outcome}${action.decision ? `: ${decisionHeadline(action.decision)}` : ""}`];
    }
    if (action.type === "rerun") return [`[${action.experiment.n}] inconclusive: measuring again with seed ${action.seed}`];
    if (action.type === "rebase") return [`[${action.experiment.n}] moved onto the new head of ${head}, to be measured there`];
    return [];
  });
}

/**
 * The local research loop: research steps on a {@link GitForge}, each followed by the runs
 * they asked for, trained one at a time through the runner (the same guards, time limit and
 * separate evaluator as on the GPU runner). It ends when `experiments` new experiments are
 * decided, or after the current step once a stop is requested.
 *
 * @returns whether it stopped early, and the forge (for the report).
 * @throws CliError when a baseline run fails (the setup is broken) or the agent keeps failing.
 */
export async function runLocal(options: RunLocalOptions): Promise<{ stopped: boolean; forge: GitForge }> {
  const { repo, display, settings, agent } = options;
  const started = performance.now();
  const now = options.now ?? (() => new Date());
  const forge = await GitForge.open(repo.root, { branch: repo.branch, run: runName(nightStart(now(), null), null), now });
  const count = async () => (await forge.experiments()).filter((e) => e.kind === "experiment").length;
  const before = await count();
  const stopping = () => options.stopRequested() || options.signal?.aborted === true;
  let failed = 0;

  for (;;) {
    if (stopping()) return { stopped: true, forge };
    const made = (await count()) - before;
    const report = await researchStep(forge, {
      agent,
      settings,
      gate: { open: made < options.experiments, experimentsLeft: options.experiments - made },
      root: options.harnessDir,
    });
    for (const line of describe(report, forge.branch)) display.line(line);
    for (const failure of report.failures) display.line(`The agent's proposal was refused: ${failure.errors.join("; ")}`);
    failed = report.failures.length ? failed + report.failures.length : 0;
    if (failed >= MAX_FAILED_PROPOSALS) {
      throw new CliError(
        `Expected a usable proposal from ${agent.name}, got ${failed} failures in a row; the last: ${report.failures.at(-1)!.errors.join("; ")}. ` +
          "Check the LLM endpoint, or run without one: `--agent offline`.",
        EXIT.agent,
      );
    }

    const waiting = await forge.waiting();
    if (waiting.length === 0 && report.actions.length === 0) return { stopped: false, forge };
    for (const experiment of waiting) {
      if (stopping()) return { stopped: true, forge };
      const run = await train(experiment, options, started, stopping);
      // A run cut short by Ctrl-C says nothing about the code: it is not recorded, and runs again on resume.
      if (run === null || (stopping() && run.result.status !== "ok")) {
        display.line(`[${experiment.n}] interrupted: the run is not recorded and will run again when the loop resumes`);
        return { stopped: true, forge };
      }
      const { epoch } = await forge.load();
      await forge.record(experiment, measurementFromResult(run.result, experiment.head, epoch));
      const { result } = run;
      const outcome = result.status === "ok" ? `val_bpb ${result.val_bpb!.toFixed(6)}` : `${result.status}: ${result.reason ?? "see the log"}`;
      display.line(`[${experiment.n}] ${outcome} (seed ${result.seed}, ${result.num_steps} steps, ${result.total_seconds.toFixed(0)} s; at ${elapsed(started)})`);
      if (experiment.kind === "baseline" && result.status !== "ok") {
        throw new CliError(
          `Expected the baseline run of ${forge.branch} (unchanged code) to finish, got ${outcome}. Nothing can be judged until it does; its log is ${run.logPath}`,
          EXIT.run,
        );
      }
    }
  }
}

/** Trains one experiment's head through the runner, showing its progress; null when the runner failed or was aborted because of Ctrl-C. */
async function train(experiment: Experiment, options: RunLocalOptions, started: number, stopping: () => boolean): Promise<ExperimentRun | null> {
  const { display, repo } = options;
  const what = experiment.kind === "baseline" ? "baseline" : "experiment";
  display.line(`[${experiment.n}] ${what} ${experiment.branch} at ${experiment.head.sha.slice(0, 7)}: ${experiment.title} (at ${elapsed(started)})`);
  display.status(`[${experiment.n}] starting the run...`);
  try {
    return await runExperiment({
      harnessDir: options.harnessDir,
      repoDir: repo.root,
      baseSha: experiment.parent.sha,
      headSha: experiment.head.sha,
      profile: options.profile,
      outDir: join(repo.root, LOCAL_FILES.runs, `${experiment.n}-${experiment.head.sha.slice(0, 7)}`),
      cacheDir: options.cacheDir,
      dataSource: options.dataSource,
      noSandbox: options.noSandbox,
      echo: display.trainingOutput(`[${experiment.n}]`),
      signal: options.signal,
    });
  } catch (error) {
    if (stopping()) return null;
    throw error;
  } finally {
    display.status("");
  }
}
