/**
 * The budget clock: how much training a run gets is measured here, in the runner, and not by
 * train.ts. The runner publishes the reading to a file the training process can read and not
 * write (prepare.ts's `trainingTime` reads it), and stops a run that trains past the budget,
 * whatever train.ts does to its own clock. See docs/budget-clock.md.
 */
import { mkdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { BUDGET_FILE_ENV, writeBudgetReading, type BudgetClockKind } from "../data/budget-reading.ts";
import type { Profile } from "../data/profiles.ts";
import type { Result } from "./result.ts";
import { ProcessTreeCpu } from "./process-tree-cpu.ts";
import type { ViewMount } from "./sandbox.ts";
import type { TrainMonitor } from "./train-process.ts";

/** The slack the clock grants, in its own seconds, for a TIME_BUDGET of `budget` seconds. */
export function budgetAllowances(budget: number): { setup: number; step: number; tolerance: number } {
  return {
    // The clock starts at the first step line, or this long after the process started,
    // whichever comes first: setup may not be spent training unseen.
    setup: 2 + 0.05 * budget,
    // The longest step the runner grants past the budget. It grants two: the step in flight
    // when the budget runs out, and the forward pass that hands the model over.
    step: Math.max(0.25, 0.025 * budget),
    // The reading's lag, scheduling, GC pauses, writing the summary, the process's exit.
    tolerance: 2 + 0.02 * budget,
  };
}

/** Under the CPU clock a run may get this small a share of the machine before the wall-clock kill ends it. */
const MIN_CPU_SHARE = 0.25;

/** Seconds of wall time after which the runner kills a run, whatever the budget clock reads (a hung run). */
export function wallTimeoutSeconds(kind: BudgetClockKind, budget: number, startupAllowance: number): number {
  return (kind === "wall" ? budget : budget / MIN_CPU_SHARE) + startupAllowance;
}

/** The engine's thread count the runner gives a run: OMP_NUM_THREADS when set, else the CPUs this process may use. */
export function engineThreads(env: NodeJS.ProcessEnv): number {
  const set = Number(env.OMP_NUM_THREADS);
  return Number.isSafeInteger(set) && set > 0 ? set : availableParallelism();
}

/**
 * The training process's environment for the clock. Under the CPU clock the OpenMP runtime
 * is told its thread count (the clock divides by it) and to sleep, not spin, while it waits:
 * a spinning thread burns budget and steals the core another thread needs. GOMP_SPINCOUNT
 * would override the wait policy in libgomp, so it is set to agree.
 */
export function budgetClockEnv(kind: BudgetClockKind, threads: number): Record<string, string> {
  return kind === "cpu" ? { OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: "passive", GOMP_SPINCOUNT: "0" } : {};
}

/** What {@link BudgetClock} needs. */
export interface BudgetClockOptions {
  kind: BudgetClockKind;
  budgetSeconds: number;
  /** The engine's thread count: the CPU clock divides CPU time by it. */
  threads: number;
  /** Where the reading is published for the training process (its directory must exist). */
  file: string;
  /** Milliseconds between readings; default 100, less for budgets under 20 s. */
  tickMs?: number;
  /** The wall clock in seconds (tests pass a fake). */
  wallSeconds?: () => number;
  /** Makes the reader of a run's CPU seconds from its root PID (tests pass a fake). */
  cpuOf?: (pid: number) => () => number;
}

/** What the clock measured over a run. */
export interface BudgetClockReport {
  clock: BudgetClockKind;
  /** Budget seconds at the run's last step line (its training), or when it ended if it printed none. */
  trainingSeconds: number;
  /**
   * The share of the training's wall time the run's processes got: CPU time / (wall time x
   * threads), from the first to the last step line. Null under the wall clock, or without steps.
   */
  cpuShare: number | null;
  /** Why the clock stopped the run, or null. */
  stopped: string | null;
}

interface Sample {
  wall: number;
  cpu: number;
}

const STEP_LINE = /^step \d+/;

/**
 * One run's budget clock, as the training process's monitor (see `runTrainProcess`). It starts
 * at the run's first `step N` line, or {@link budgetAllowances}' `setup` seconds after the start,
 * whichever comes first, and stops the run once it reads more than TIME_BUDGET plus two steps
 * (the longest step seen, at most `step`) plus the tolerance.
 */
export class BudgetClock implements TrainMonitor {
  readonly #options: Required<BudgetClockOptions>;
  readonly #allowances: ReturnType<typeof budgetAllowances>;
  #cpu: () => number = () => 0;
  #spawn: Sample | null = null;
  #start: Sample | null = null;
  #latest: Sample | null = null;
  #lastStep: { sample: Sample; seconds: number } | null = null;
  #longestStep = 0;
  #stopRun: (reason: string) => void = () => {};
  #stopped: string | null = null;
  #timer: NodeJS.Timeout | undefined;
  #lineStart = "";

  constructor(options: BudgetClockOptions) {
    const { budgetSeconds, threads } = options;
    if (!(Number.isFinite(budgetSeconds) && budgetSeconds > 0)) throw new Error(`Expected \`budgetSeconds\` to be a number > 0, got \`${budgetSeconds}\``);
    if (!(Number.isSafeInteger(threads) && threads > 0)) throw new Error(`Expected \`threads\` to be an integer > 0, got \`${threads}\``);
    this.#options = {
      tickMs: Math.min(100, budgetSeconds * 5),
      wallSeconds: () => performance.now() / 1000,
      cpuOf: (pid) => {
        const tree = new ProcessTreeCpu(pid);
        return () => tree.seconds();
      },
      ...options,
    };
    this.#allowances = budgetAllowances(budgetSeconds);
    this.#publish(0);
  }

  /** The budget seconds past which the run is stopped, with the step length seen so far. */
  limit(): number {
    const { step, tolerance } = this.#allowances;
    return this.#options.budgetSeconds + 2 * Math.min(this.#longestStep, step) + tolerance;
  }

  start(pid: number, stop: (reason: string) => void): void {
    if (this.#options.kind === "cpu") this.#cpu = this.#options.cpuOf(pid);
    this.#stopRun = stop;
    this.#spawn = this.#latest = this.#sample();
    this.#timer = setInterval(() => this.tick(), this.#options.tickMs);
  }

  output(chunk: Buffer): void {
    const lines = chunk.toString("utf8").split(/\r|\n/);
    lines[0] = this.#lineStart + lines[0];
    // Only the start of a line matters, so a line without an end keeps no more than that.
    this.#lineStart = lines.pop()!.slice(0, 16);
    for (const line of lines) if (STEP_LINE.test(line)) this.#step();
  }

  end(): void {
    clearInterval(this.#timer);
  }

  /** Takes a reading: starts the clock after the setup allowance, publishes it, and stops a run past its limit. */
  tick(): void {
    if (this.#stopped !== null || this.#spawn === null) return;
    const now = (this.#latest = this.#sample());
    if (this.#start === null && this.#seconds(this.#spawn, now) >= this.#allowances.setup) this.#start = now;
    const used = this.#start === null ? 0 : this.#seconds(this.#start, now);
    try {
      this.#publish(used);
    } catch (error) {
      this.#stop(`budget: the runner could not publish its clock: ${(error as Error).message}`);
      return;
    }
    if (used > this.limit()) {
      const { step, tolerance } = this.#allowances;
      this.#stop(
        `budget: trained past TIME_BUDGET: the ${this.#options.kind} clock read ${used.toFixed(1)} s, over TIME_BUDGET ` +
          `${this.#options.budgetSeconds} s + 2 steps of ${Math.min(this.#longestStep, step).toFixed(2)} s + ${tolerance.toFixed(1)} s tolerance`,
      );
    }
  }

  report(): BudgetClockReport {
    const end = this.#lastStep?.sample ?? this.#latest;
    const start = this.#start;
    const wall = start && end ? end.wall - start.wall : 0;
    return {
      clock: this.#options.kind,
      trainingSeconds: this.#lastStep?.seconds ?? (start && end ? this.#seconds(start, end) : 0),
      cpuShare: this.#options.kind === "cpu" && start && this.#lastStep && wall > 0 ? (end!.cpu - start.cpu) / (wall * this.#options.threads) : null,
      stopped: this.#stopped,
    };
  }

  #step(): void {
    if (this.#spawn === null || this.#stopped !== null) return;
    const now = (this.#latest = this.#sample());
    this.#start ??= now;
    const seconds = this.#seconds(this.#start, now);
    if (this.#lastStep) this.#longestStep = Math.max(this.#longestStep, seconds - this.#lastStep.seconds);
    this.#lastStep = { sample: now, seconds };
  }

  #stop(reason: string): void {
    this.#stopped = reason;
    clearInterval(this.#timer);
    this.#stopRun(reason);
  }

  /** Budget seconds between two samples, in the clock's kind. */
  #seconds(from: Sample, to: Sample): number {
    return this.#options.kind === "wall" ? to.wall - from.wall : (to.cpu - from.cpu) / this.#options.threads;
  }

  #sample(): Sample {
    return { wall: this.#options.wallSeconds(), cpu: this.#cpu() };
  }

  #publish(seconds: number): void {
    writeBudgetReading(this.#options.file, { clock: this.#options.kind, seconds });
  }
}

/** One run's clock and what the runner adds to the run for it. */
export interface RunBudget {
  clock: BudgetClock;
  /** The training process's environment for the clock: where the reading is, and OpenMP's settings. */
  env: Record<string, string>;
  /** The reading's folder, for the sandbox to show read-only. */
  mount: ViewMount;
  /** The log line that says what the budget counts and when a run is stopped. */
  describe: string;
}

/** Makes the clock of one run of `profile` in the run directory `runDir`, its reading in a folder of its own. */
export async function makeRunBudget(profile: Profile, runDir: string, env: NodeJS.ProcessEnv): Promise<RunBudget> {
  const dir = join(runDir, "budget");
  await mkdir(dir);
  const file = join(dir, "reading.json");
  const kind = profile.budgetClock;
  const threads = engineThreads(env);
  const clock = new BudgetClock({ kind, budgetSeconds: profile.TIME_BUDGET, threads, file });
  const what = kind === "wall" ? "wall time" : `the run's CPU time / ${threads} threads`;
  const { setup, step, tolerance } = budgetAllowances(profile.TIME_BUDGET);
  return {
    clock,
    env: { ...budgetClockEnv(kind, threads), [BUDGET_FILE_ENV]: file },
    mount: { source: dir, target: dir },
    describe: `budget: TIME_BUDGET ${profile.TIME_BUDGET} s of ${what}, from the first step (or ${setup.toFixed(1)} s after the start); stopped past ${(profile.TIME_BUDGET + tolerance).toFixed(1)} s plus two steps of at most ${step.toFixed(2)} s`,
  };
}

/** The figures result.json takes from the clock. */
export function clockFigures(report: BudgetClockReport): Pick<Result, "training_seconds" | "budget_clock" | "cpu_share"> {
  return { training_seconds: report.trainingSeconds, budget_clock: report.clock, cpu_share: report.cpuShare };
}
