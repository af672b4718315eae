/**
 * One experiment, start to finish, as the GitHub Action and the local loop both run it:
 * guard the diff and the imports, train in a timed child process inside the OS sandbox,
 * evaluate the traced model in a separate process with the base commit's harness (which the
 * sandbox never showed), and write `result.json` and `train.log` where the run could not.
 */
import { appendFile, mkdir, mkdtemp, realpath } from "node:fs/promises";
import os from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { execa } from "execa";
import { PROFILES } from "../data/profiles.ts";
import { resolveDataLayout } from "../data/resolve-data-layout.ts";
import { writeFileAtomic } from "../data/write-file-atomic.ts";
import { checkDiff, EDITABLE_FILE } from "./guards/diff.ts";
import { checkImports, formatImportViolations } from "./guards/imports.ts";
import { readTrainFile } from "./guards/train-file.ts";
import { parseResult, seedFromCommitMessage, type Result, type ResultStatus } from "./result.ts";
import { makeRunDir, readRunFile, removeRunDir, takeTrace, type RunDir } from "./run-dir.ts";
import { findSandbox, NO_SANDBOX_WARNING, sandboxArgs, type SandboxView } from "./sandbox.ts";
import { logExcerpt, runTrainProcess } from "./train-process.ts";
import { clockFigures, describeClockReport, makeRunBudget, wallTimeoutSeconds } from "./budget-clock.ts";
import { TrainSourceError } from "./train-profiles.ts";

/**
 * Wall seconds a run may take beyond its budget (see `wallTimeoutSeconds`) before the runner
 * kills it as hung: process start, imports, model and optimizer setup, the first step, and
 * the trace of the final forward pass. How much it may train is the budget clock's rule.
 */
export const STARTUP_ALLOWANCE_SECONDS = 120;

/** Seconds the evaluator may take (it replays EVAL_TOKENS of validation data). */
export const EVALUATE_TIMEOUT_SECONDS = 600;

/** The JavaScript heap of train.ts, in MiB (`--max-old-space-size`). */
export const DEFAULT_HEAP_MB = 8192;

/** Variables the runner passes on from its own environment; everything else (tokens, secrets) stays out. */
const PASSED_ENV = [
  "PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES",
  "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "AUTORESEARCH_ADDON",
];

/** What {@link runExperiment} needs. */
export interface RunExperimentOptions {
  /** The trusted checkout of the base commit, with node_modules and the built addon. */
  harnessDir: string;
  /** A git repository that holds both commits. */
  repoDir: string;
  baseSha: string;
  headSha: string;
  /** `default`, `cpu` or `test`. */
  profile: string;
  /** Where `result.json` and `train.log` are written. */
  outDir: string;
  /** The data cache prepare.ts filled (AUTORESEARCH_CACHE_DIR); default ~/.cache/autoresearch. */
  cacheDir?: string;
  /** A directory of shards or a mirror URL (AUTORESEARCH_DATA), if not the profile's default. */
  dataSource?: string;
  /** Overrides {@link STARTUP_ALLOWANCE_SECONDS} (tests, slow machines). */
  startupAllowanceSeconds?: number;
  /** What the engine may hold per device, MiB; default 3/4 of the host's memory. */
  memoryLimitMb?: number;
  /** Default {@link DEFAULT_HEAP_MB}. */
  heapMb?: number;
  /** Also copy the training output here as it comes. */
  echo?: NodeJS.WritableStream;
  /** Keep the run directory (harness copy, data view, trace) for inspection. */
  keepRunDir?: boolean;
  /** The base environment to pass on from (and to find `bwrap` on its PATH); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Train without the OS sandbox (the `--no-sandbox` opt-out): every result then carries
   * {@link NO_SANDBOX_WARNING}. Without it, a machine with no working bwrap makes the runner throw.
   */
  noSandbox?: boolean;
  /**
   * Aborting it stops the experiment at once: the training or evaluation process is killed
   * with its process group and the promise rejects with the signal's reason, having written
   * no `result.json` (an aborted run says nothing about the code).
   */
  signal?: AbortSignal;
}

/** Seconds since the start of {@link runExperiment}, for overhead measurements. */
export interface ExperimentTimings {
  /** When it started, in ms since the epoch (to line the figures up with another process's). */
  startedAt: number;
  trainStart: number | null;
  firstStep: number | null;
  trainEnd: number | null;
  resultWritten: number;
}

/** The result, where it was written, and when each phase happened. */
export interface ExperimentRun {
  result: Result;
  resultPath: string;
  logPath: string;
  timings: ExperimentTimings;
}

/**
 * Runs one experiment; see the module comment. Throws only when the runner itself cannot work
 * (no sandbox and no opt-out included), or on abort.
 */
export async function runExperiment(options: RunExperimentOptions): Promise<ExperimentRun> {
  const { signal } = options;
  const started = performance.now();
  const since = () => (performance.now() - started) / 1000;
  const bwrap = options.noSandbox ? null : await findSandbox(options.env ?? process.env);
  const warnings = options.noSandbox ? [NO_SANDBOX_WARNING] : [];
  const profile = PROFILES[options.profile];
  if (!profile) throw new Error(`Expected the profile to be one of ${Object.keys(PROFILES).map((n) => `\`${n}\``).join(", ")}, got \`${options.profile}\``);
  const outDir = resolve(options.outDir);
  const resultPath = join(outDir, "result.json");
  const logPath = join(outDir, "train.log");
  await mkdir(outDir, { recursive: true });
  const git = async (...args: string[]) => (await execa("git", args, { cwd: options.repoDir })).stdout;
  const baseSha = await git("rev-parse", "--verify", `${options.baseSha}^{commit}`);
  const headSha = await git("rev-parse", "--verify", `${options.headSha}^{commit}`);
  const seed = seedFromCommitMessage(await git("log", "-1", "--format=%B", headSha));
  const timings: ExperimentTimings = { startedAt: Date.now() - since() * 1000, trainStart: null, firstStep: null, trainEnd: null, resultWritten: 0 };
  const figures = emptyFigures();

  const finish = async (status: ResultStatus, fields: Partial<Result>): Promise<ExperimentRun> => {
    const result = parseResult({
      version: 1, status, val_bpb: null, ...figures, total_seconds: since(), profile: profile.name, seed,
      base_sha: baseSha, head_sha: headSha, crash_excerpt: null, reason: null, warnings, ...fields,
    });
    await writeFileAtomic(resultPath, `${JSON.stringify(result, null, 2)}\n`);
    timings.resultWritten = since();
    return { result, resultPath, logPath, timings };
  };
  const warningLines = warnings.map((w) => `[runner] warning: ${w}`);
  const reject = async (reason: string) => {
    await writeFileAtomic(logPath, [...warningLines, `[runner] rejected: ${reason}`, ""].join("\n"));
    return finish("rejected", { reason });
  };

  // 1. Guards: only train.ts changed, it is a regular UTF-8 file, and it imports only the engine and prepare.ts.
  const changed = (await git("diff", "--name-only", "--no-renames", "-z", `${baseSha}...${headSha}`)).split("\0").filter(Boolean);
  const diffErrors = checkDiff(changed);
  if (diffErrors.length) return reject(diffErrors.join("\n"));
  const trainFile = await readTrainFile(options.repoDir, headSha);
  if ("reason" in trainFile) return reject(trainFile.reason);
  const trainSource = trainFile.source;
  let violations;
  try {
    violations = checkImports(trainSource);
  } catch (error) {
    return reject(`The import guard could not read \`${EDITABLE_FILE}\`: ${(error as Error).message}`);
  }
  if (violations.length) return reject(formatImportViolations(violations));

  // 2. Train, in a run directory that holds no validation data.
  const env = passedEnv(options.env ?? process.env);
  const dataEnv = {
    AUTORESEARCH_PROFILE: profile.name,
    ...(options.cacheDir ? { AUTORESEARCH_CACHE_DIR: resolve(options.cacheDir) } : {}),
    ...(options.dataSource ? { AUTORESEARCH_DATA: options.dataSource } : {}),
  };
  const runDirPath = await mkdtemp(join(outDir, ".run-"));
  let runDir: RunDir;
  try {
    runDir = await makeRunDir({ dir: runDirPath, harnessDir: resolve(options.harnessDir), trainSource, profile, data: resolveDataLayout(profile, [], dataEnv) });
  } catch (error) {
    if (!(error instanceof TrainSourceError)) throw error;
    await removeRunDir(runDirPath);
    return reject(error.message);
  }
  const budget = await makeRunBudget(profile, runDir.dir, options.env ?? process.env);
  const hidden = [resolve(options.harnessDir), resolveDataLayout(profile, [], dataEnv).cacheDir, outDir];
  const libraryDirs = (env.LD_LIBRARY_PATH ?? "").split(":").filter((dir) => isAbsolute(dir));
  const view = { ...(await withAddon({ ...runDir.view, readOnly: [...runDir.view.readOnly, budget.mount] }, env.AUTORESEARCH_ADDON)), hidden, libraryDirs };
  try {
    const allowance = options.startupAllowanceSeconds ?? STARTUP_ALLOWANCE_SECONDS;
    const memoryLimitMb = options.memoryLimitMb ?? defaultMemoryLimitMb();
    const timeoutSeconds = wallTimeoutSeconds(profile.budgetClock, profile.TIME_BUDGET, allowance);
    timings.trainStart = since();
    const train = await runTrainProcess({
      args: ["--import", "tsx", "train.ts", "--summary-json", runDir.summaryPath],
      cwd: runDir.dir,
      env: { ...env, ...runDir.env, ...budget.env, AUTORESEARCH_SEED: String(seed) },
      logPath,
      header: [
        ...warningLines,
        `[runner] ${baseSha.slice(0, 7)}..${headSha.slice(0, 7)}, profile ${profile.name}, seed ${seed}, killed after ${timeoutSeconds} s, ${bwrap ? "in the sandbox (bwrap)" : "unsandboxed"}`,
        ...(runDir.note ? [`[runner] ${runDir.note}`] : []),
        `[runner] ${budget.describe}`,
      ],
      wrap: bwrap === null ? undefined : async (argv) => [bwrap, ...(await sandboxArgs(view, argv))],
      timeoutSeconds,
      heapMb: options.heapMb ?? DEFAULT_HEAP_MB,
      memoryLimitMb,
      echo: options.echo,
      signal,
      monitor: budget.clock,
    });
    signal?.throwIfAborted();
    timings.trainEnd = since();
    timings.firstStep = train.firstStepSeconds === null ? null : timings.trainStart + train.firstStepSeconds;
    // Every process of the run is gone now (its process group, and in the sandbox its PID namespace).
    const clock = budget.clock.report();
    await appendFile(logPath, `[runner] ${describeClockReport(clock)}\n`);
    Object.assign(figures, summaryFigures(await readRunFile(runDir.summaryPath)), clockFigures(clock));
    const crash = (reason: string, excerpt = train.excerpt) => finish("crash", { reason, crash_excerpt: excerpt });
    if (train.stopped) return finish("rejected", { reason: train.stopped, crash_excerpt: train.excerpt });
    if (train.timedOut) {
      return finish("timeout", {
        reason: `killed after ${timeoutSeconds} s of wall time: the runner's limit for TIME_BUDGET ${profile.TIME_BUDGET} s on the ${profile.budgetClock} clock, with a startup allowance of ${allowance} s`,
        crash_excerpt: train.excerpt,
      });
    }
    if (train.exitCode !== 0) return crash(train.signal ? `train.ts was killed by ${train.signal}` : `train.ts exited with code ${train.exitCode}`);
    const traceDir = join(runDir.dir, "evaluate");
    const trace = await takeTrace(runDir, traceDir);
    if (trace === "missing") return crash("train.ts exited without handing its model to evaluateBpb, so there is nothing to evaluate");
    if (trace !== "taken") {
      await appendFile(logPath, `[runner] rejected: ${trace.reason}\n`);
      return finish("rejected", { reason: trace.reason });
    }

    // 3. Evaluate: only now, with training over, does a process see the validation shard.
    const outcome = await runEvaluator(resolve(options.harnessDir), traceDir, { ...env, ...dataEnv, AUTORESEARCH_MEMORY_LIMIT_MB: String(memoryLimitMb) }, logPath, signal);
    signal?.throwIfAborted();
    if (outcome.status === "ok") return finish("ok", { val_bpb: outcome.val_bpb });
    if (outcome.status === "rejected") return finish("rejected", { reason: `evaluator: ${outcome.reason}` });
    return crash(`evaluator: ${outcome.reason}`, outcome.excerpt);
  } finally {
    const failed = options.keepRunDir ? null : await removeRunDir(runDir.dir);
    if (failed) await appendFile(logPath, `[runner] could not remove the run directory: ${failed.message}\n`);
  }
}

/** The view plus the addon that AUTORESEARCH_ADDON names, when it is set (a developer's or an ASan build). */
async function withAddon(view: SandboxView, addon: string | undefined): Promise<SandboxView> {
  if (!addon) return view;
  const source = await realpath(addon).catch(() => null);
  return source === null ? view : { ...view, readOnly: [...view.readOnly, { source, target: resolve(addon) }] };
}

/** What the evaluator prints as its last line. */
export type EvaluatorOutcome = { status: "ok"; val_bpb: number } | { status: "rejected" | "crash"; reason: string };

/**
 * Runs the evaluator (`src/runner/cli.ts evaluate`) from the harness, appends its output to the
 * log, and returns its outcome; a crash also carries the end of its output. Like training, it
 * runs in its own process group, so a Ctrl-C in the terminal reaches it only through `signal`.
 */
async function runEvaluator(
  harnessDir: string,
  traceDir: string,
  env: Record<string, string>,
  logPath: string,
  signal: AbortSignal | undefined,
): Promise<EvaluatorOutcome & { excerpt?: string }> {
  const run = await execa(process.execPath, ["--import", "tsx", "src/runner/cli.ts", "evaluate", "--trace", traceDir], {
    cwd: harnessDir, env, extendEnv: false, reject: false, all: true, timeout: EVALUATE_TIMEOUT_SECONDS * 1000, detached: true, cancelSignal: signal,
  });
  await appendFile(logPath, `[runner] evaluator (exit ${run.exitCode ?? run.signal}):\n${run.all ?? ""}\n`);
  let outcome: EvaluatorOutcome | null = null;
  try {
    outcome = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "");
  } catch {
    // No outcome line: the process died first.
  }
  if (outcome?.status === "ok" || outcome?.status === "rejected") return outcome;
  const reason = outcome?.reason ?? (run.timedOut ? `timed out after ${EVALUATE_TIMEOUT_SECONDS} s` : `exited with ${run.exitCode ?? run.signal}`);
  return { status: "crash", reason, excerpt: logExcerpt(run.all ?? "") };
}

function passedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(PASSED_ENV.flatMap((key) => (env[key] === undefined ? [] : [[key, env[key]!]])));
}

/** Three quarters of the host's memory, in MiB. */
function defaultMemoryLimitMb(): number {
  return Math.floor((os.totalmem() / 2 ** 20) * 0.75);
}

type Figures = Pick<
  Result,
  "reported_val_bpb" | "training_seconds" | "peak_vram_mb" | "mfu_percent" | "total_tokens_M" | "num_steps" | "num_params_M" | "depth" | "loss_curve" | "budget_clock" | "cpu_share"
>;

function emptyFigures(): Figures {
  return { reported_val_bpb: null, training_seconds: 0, peak_vram_mb: 0, mfu_percent: null, total_tokens_M: 0, num_steps: 0, num_params_M: 0, depth: null, loss_curve: [] };
}

/**
 * The training run's figures from its summary JSON. train.ts wrote them, so each is taken only
 * if it has the right form; none of them is judged. In run mode prepare.ts leaves val_bpb out.
 */
export function summaryFigures(text: string | null): Partial<Figures> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text ?? "");
  } catch {
    return {};
  }
  if (typeof json !== "object" || json === null) return {};
  const num = (key: string) => (typeof json[key] === "number" && Number.isFinite(json[key]) && (json[key] as number) >= 0 ? (json[key] as number) : undefined);
  const int = (key: string) => (Number.isSafeInteger(json[key]) && (json[key] as number) >= 0 ? (json[key] as number) : undefined);
  const curve = Array.isArray(json.loss_curve)
    ? json.loss_curve.filter((p): p is [number, number] => Array.isArray(p) && p.length === 2 && Number.isSafeInteger(p[0]) && p[0] >= 0 && Number.isFinite(p[1]))
    : [];
  const figures: Partial<Figures> = {
    reported_val_bpb: typeof json.val_bpb === "number" && Number.isFinite(json.val_bpb) ? json.val_bpb : null,
    training_seconds: num("training_seconds"),
    peak_vram_mb: num("peak_vram_mb"),
    mfu_percent: num("mfu_percent") ?? null,
    total_tokens_M: num("total_tokens_M"),
    num_steps: int("num_steps"),
    num_params_M: num("num_params_M"),
    depth: int("depth") ?? null,
    loss_curve: curve,
  };
  return Object.fromEntries(Object.entries(figures).filter(([, v]) => v !== undefined));
}
