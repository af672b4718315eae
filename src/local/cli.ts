/**
 * The `autoresearch` command: the research loop on a local git repository, and the
 * commands around it (init, prepare, train, report). See `autoresearch --help`.
 */
import { fileURLToPath } from "node:url";
import { isMainModule } from "../data/is-main-module.ts";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { DEFAULT_CONFIG } from "../research/research-config.ts";
import type { PlanSettings } from "../research/plan.ts";
import { findSandbox, NO_SANDBOX_FLAG, NO_SANDBOX_WARNING, SandboxUnavailableError } from "../runner/sandbox.ts";
import { TRAIN_PROFILE_OVERRIDES } from "../runner/train-profiles.ts";
import { checkReachable, chooseAgent } from "./choose-agent.ts";
import { CliError, EXIT } from "./cli-error.ts";
import { GitForge } from "./git-forge.ts";
import { initWorkRepo, WORK_BRANCH } from "./init-work-repo.ts";
import { readState } from "./local-state.ts";
import { openWorkRepo, repoRoot } from "./open-work-repo.ts";
import { ProgressDisplay } from "./progress-display.ts";
import { runLocal } from "./run-local.ts";
import { runPrepare } from "./run-prepare.ts";
import { trainWorkingCopy } from "./train-working-copy.ts";
import { writeReport } from "./write-report.ts";

/** This package: the trusted harness every run uses (prepare.ts, src, node_modules, build). */
const HARNESS = fileURLToPath(new URL("../..", import.meta.url));

/** The profiles of the command line and the runner's names for them. */
const PROFILES: Readonly<Record<string, string>> = { cpu: "cpu", gpu: "default", test: "test" };

/** The local loop's noise settings: the app's, with two baseline runs (the least that measures noise) to reach the first experiment sooner. */
export const LOCAL_SETTINGS: PlanSettings = { ...DEFAULT_CONFIG.noise, baselineRuns: 2, concurrency: 1 };

/** The work repository `init` creates when no directory is given. */
export const DEFAULT_WORK_DIR = "autoresearch-work";

const EXIT_HELP = `Exit codes:
  0    done
  1    an unexpected error
  2    a bad command, flag or value
  3    the repository cannot be used (not a git repository, local changes, train.ts missing)
  4    the LLM agent cannot be reached or keeps failing
  5    preparing the data, a baseline run or the training run failed
  130  stopped by Ctrl-C`;

const HELP = `Usage: autoresearch <command> [options]

Autonomous LLM-training research on a local git repository: an agent edits train.ts, each
experiment is a branch, improvements are squash-merged into the research branch.

Commands:
  init [DIR]   create a work repository seeded with train.ts, prepare.ts and program.md
  local        run the research loop in a work repository
  prepare      prepare the data and tokenizer of a profile
  train        train the working copy's train.ts once, through the runner
  report       write the morning report: a table, report.md and progress.png

Run \`autoresearch <command> --help\` for a command's options.

${EXIT_HELP}`;

const DIR_OPTION = "  --dir PATH          the work repository (default: the current directory)";
const NO_SANDBOX_OPTION = `  ${NO_SANDBOX_FLAG.padEnd(20)}train without the bwrap sandbox (where bwrap cannot run); every
                      result then warns that its val_bpb is unprotected`;
const PROFILE_NAMES = "cpu, gpu or test";

interface Command {
  help: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  positionals?: number;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

/** The runner's profile for a command-line name. @throws CliError (exit 2) for an unknown one. */
function profileOf(name: string): string {
  if (!Object.hasOwn(PROFILES, name)) throw new CliError(`Expected \`--profile\` to be one of ${PROFILE_NAMES}, got \`${name}\``, EXIT.usage);
  return PROFILES[name]!;
}

/** An integer from a flag. @throws CliError (exit 2) naming the flag. */
function integerOf(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new CliError(`Expected \`--${flag}\` to be an integer >= ${min}, got \`${value}\``, EXIT.usage);
  return n;
}

const dataEnv = () => ({ cacheDir: process.env.AUTORESEARCH_CACHE_DIR || undefined, dataSource: process.env.AUTORESEARCH_DATA || undefined });

/** Set by the first Ctrl-C: the loop stops after its current step. */
let stopRequested = false;
/** Aborted by the second Ctrl-C: the run in progress is killed and the loop stops. */
const interrupt = new AbortController();

const COMMANDS: Record<string, Command> = {
  init: {
    help: `Usage: autoresearch init [DIR]

Creates a git repository at DIR (default ${DEFAULT_WORK_DIR}) on the branch \`${WORK_BRANCH}\`, with a first
commit of this package's train.ts, prepare.ts and program.md. An existing work
repository is left as it is.`,
    options: {},
    positionals: 1,
    async run(_values, [dir = DEFAULT_WORK_DIR]) {
      const created = await initWorkRepo(dir, HARNESS);
      console.log(created ? `Created the work repository ${dir} (branch ${WORK_BRANCH}).` : `${dir} is already a work repository; it is left as it is.`);
      return EXIT.ok;
    },
  },

  local: {
    help: `Usage: autoresearch local [options]

Runs the research loop in a work repository (see \`autoresearch init\`): prepares the
profile's data, measures the research branch (baseline runs), then asks the agent for
experiments, trains each one through the runner and keeps the improvements. It ends with
the report. Ctrl-C stops after the current step, a second Ctrl-C at once (the run in
progress is killed and not recorded); run it again to resume.

Options:
  --experiments N     new experiments to run (default ${DEFAULT_CONFIG.budget.experimentsPerNight})
  --profile NAME      ${PROFILE_NAMES} (default cpu)
  --agent NAME        openai or offline (default: openai when OPENAI_API_KEY or
                      OPENAI_BASE_URL is set, else offline)
  --model NAME        the LLM's model (default: OPENAI_MODEL, else ${DEFAULT_CONFIG.agent.model})
${NO_SANDBOX_OPTION}
${DIR_OPTION}

Environment: OPENAI_API_KEY, OPENAI_BASE_URL (any OpenAI-compatible endpoint), OPENAI_MODEL,
AUTORESEARCH_CACHE_DIR (the data cache), AUTORESEARCH_DATA (a directory of shards).

${EXIT_HELP}`,
    options: {
      experiments: { type: "string" }, profile: { type: "string" }, agent: { type: "string" }, model: { type: "string" }, dir: { type: "string" },
      "no-sandbox": { type: "boolean" },
    },
    async run(values) {
      const noSandbox = await checkSandbox(values["no-sandbox"] === true);
      const experiments = integerOf("experiments", (values.experiments as string) ?? String(DEFAULT_CONFIG.budget.experimentsPerNight), 0);
      const profile = profileOf((values.profile as string) ?? "cpu");
      const provider = values.agent as string | undefined;
      if (provider !== undefined && provider !== "openai" && provider !== "offline") {
        throw new CliError(`Expected \`--agent\` to be openai or offline, got \`${provider}\``, EXIT.usage);
      }
      const repo = await openWorkRepo((values.dir as string) ?? ".");
      const choice = chooseAgent({ provider, model: values.model as string | undefined }, process.env, Object.keys(TRAIN_PROFILE_OVERRIDES[profile]!));
      const display = new ProgressDisplay();
      display.line(`autoresearch local: ${repo.root}, research branch ${repo.branch}, profile ${values.profile ?? "cpu"}, up to ${experiments} new experiments`);
      display.line(choice.line);
      if (choice.baseUrl !== null) await checkReachable(choice.baseUrl);
      await runPrepare(HARNESS, profile);
      process.on("SIGINT", onInterrupt);
      const { stopped, forge } = await runLocal({
        repo, harnessDir: HARNESS, profile, experiments, agent: choice.agent, settings: LOCAL_SETTINGS, display,
        stopRequested: () => stopRequested, signal: interrupt.signal, noSandbox, ...dataEnv(),
      }).finally(() => process.off("SIGINT", onInterrupt));
      await printReport(forge);
      const how = interrupt.signal.aborted ? "at once (a run in progress is killed and not recorded)" : "after the current step";
      if (stopped) console.log(`Stopped by Ctrl-C ${how}; the repository is consistent. Run the same command to resume.`);
      return stopped ? EXIT.interrupted : EXIT.ok;
    },
  },

  prepare: {
    help: `Usage: autoresearch prepare [options]

Prepares a profile's data: downloads (gpu) or generates (cpu, test) the shards and trains the
tokenizer, into AUTORESEARCH_CACHE_DIR (default ~/.cache/autoresearch). \`local\` and \`train\`
do this themselves; prepared data is reused.

Options:
  --profile NAME      ${PROFILE_NAMES} (default gpu, the reference setup)
  --source DIR|URL    a directory of .parquet/.txt shards, or a climbmix mirror
  --num-shards N      training shards to download (gpu)`,
    options: { profile: { type: "string" }, source: { type: "string" }, "num-shards": { type: "string" } },
    async run(values) {
      const extra = (["source", "num-shards"] as const).flatMap((flag) => (values[flag] === undefined ? [] : [`--${flag}`, values[flag] as string]));
      await runPrepare(HARNESS, profileOf((values.profile as string) ?? "gpu"), extra);
      return EXIT.ok;
    },
  },

  train: {
    help: `Usage: autoresearch train [options]

Trains the working copy of train.ts once, through the runner (the diff and import guards, the
time limit, the separate evaluator), against the checked-out commit. Shows the training output
and writes result.json and train.log under runs/.

Options:
  --profile NAME      ${PROFILE_NAMES} (default gpu, the reference setup)
${NO_SANDBOX_OPTION}
${DIR_OPTION}

${EXIT_HELP}`,
    options: { profile: { type: "string" }, dir: { type: "string" }, "no-sandbox": { type: "boolean" } },
    async run(values) {
      const noSandbox = await checkSandbox(values["no-sandbox"] === true);
      const profile = profileOf((values.profile as string) ?? "gpu");
      await runPrepare(HARNESS, profile);
      // Training runs in its own process group, which a plain exit on Ctrl-C would leave running.
      const stop = new AbortController();
      const onStop = () => stop.abort();
      process.once("SIGINT", onStop);
      const run = await trainWorkingCopy({ dir: (values.dir as string) ?? ".", harnessDir: HARNESS, profile, echo: process.stdout, signal: stop.signal, noSandbox, ...dataEnv() })
        .catch((error: unknown) => {
          if (stop.signal.aborted) return null;
          throw error;
        })
        .finally(() => process.off("SIGINT", onStop));
      if (run === null) {
        console.error("\nStopped by Ctrl-C; the training run was killed.");
        return EXIT.interrupted;
      }
      const { result, resultPath, logPath } = run;
      const outcome = result.status === "ok" ? `val_bpb ${result.val_bpb!.toFixed(6)} (from the runner's evaluator)` : `${result.status}: ${result.reason ?? "see the log"}`;
      console.log(`\n${outcome}\nresult: ${resultPath}\nlog:    ${logPath}`);
      return result.status === "ok" ? EXIT.ok : EXIT.run;
    },
  },

  report: {
    help: `Usage: autoresearch report [options]

Prints the table of every run and writes report.md and progress.png (val_bpb per experiment,
kept and discarded, with the running best) into the work repository.

Options:
${DIR_OPTION}`,
    options: { dir: { type: "string" } },
    async run(values) {
      const root = await repoRoot((values.dir as string) ?? ".");
      const stored = await readState(root);
      if (stored === null) throw new CliError(`Expected a work repository where \`autoresearch local\` ran, got ${root}, which has no runs yet`, EXIT.repo);
      await printReport(await GitForge.open(root, { branch: stored.state.branch, run: "" }));
      return EXIT.ok;
    },
  },
};

/**
 * Fails before any work when training could not be sandboxed (the message names the command
 * that installs bwrap); with the opt-out, says once what it costs. Returns the opt-out.
 */
async function checkSandbox(noSandbox: boolean): Promise<boolean> {
  if (noSandbox) {
    console.error(`autoresearch: warning: ${NO_SANDBOX_WARNING}`);
    return true;
  }
  await findSandbox().catch((error: unknown) => {
    throw error instanceof SandboxUnavailableError ? new CliError(error.message, EXIT.run) : error;
  });
  return false;
}

/** Writes the report files and prints the table and where they are. */
async function printReport(forge: GitForge): Promise<void> {
  const { epoch, experiments } = await forge.load();
  const report = await writeReport(forge.dir, forge.branch, experiments, epoch);
  console.log(`\n${report.table}\n\n${report.summary}\nReport: ${report.reportPath}\nChart:  ${report.chartPath}`);
}

/** Runs the command line and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name]! : null;
  try {
    if (command === null) throw new CliError(`Expected a command (${Object.keys(COMMANDS).join(", ")}), got \`${name}\`. See \`autoresearch --help\`.`, EXIT.usage);
    let parsed;
    try {
      parsed = parseArgs({ args: [...rest], options: { ...command.options, help: { type: "boolean", short: "h" } }, allowPositionals: true });
    } catch (error) {
      throw new CliError(`${(error as Error).message}. See \`autoresearch ${name} --help\`.`, EXIT.usage);
    }
    if (parsed.values.help) {
      console.log(command.help);
      return EXIT.ok;
    }
    if (parsed.positionals.length > (command.positionals ?? 0)) {
      throw new CliError(`Expected at most ${command.positionals ?? 0} arguments to \`${name}\`, got \`${parsed.positionals.join(" ")}\``, EXIT.usage);
    }
    return await command.run(parsed.values, parsed.positionals);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    console.error(`autoresearch: ${error.message}`);
    return error.exitCode;
  }
}

/** The first Ctrl-C asks the loop to stop after its current step; a second one stops it at once. */
function onInterrupt(): void {
  if (stopRequested) {
    console.error("\nStopping now: killing the run in progress; it will run again on resume...");
    interrupt.abort();
    return;
  }
  stopRequested = true;
  console.error("\nStopping after the current step (Ctrl-C again to stop at once)...");
}

/** Runs the command line as a program: sets the exit code, and shows a stack only for an unexpected error. */
export async function runCli(argv: readonly string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    console.error(`autoresearch: unexpected error: ${(error as Error).stack ?? error}`);
    process.exitCode = EXIT.failure;
  }
}

if (isMainModule(import.meta.url)) await runCli(process.argv.slice(2));
