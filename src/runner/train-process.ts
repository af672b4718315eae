/**
 * Runs train.ts as a child process that the runner, not train.ts, holds the clock and the
 * memory of: its own process group (killed whole at the deadline or on abort), a V8 heap cap,
 * an engine memory cap, and its output captured to a log of bounded size.
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";

/** What to run and under which limits. */
export interface TrainProcessOptions {
  /** Node arguments after the runner's own flags, e.g. `["--import", "tsx", "train.ts"]`. */
  args: string[];
  cwd: string;
  /** The whole environment of the child (nothing else is inherited). */
  env: Record<string, string>;
  /** stdout and stderr, interleaved, go here. */
  logPath: string;
  /** Lines written to the log before the child's output. */
  header?: string[];
  /** The process group is killed (SIGKILL) this many seconds after the start. */
  timeoutSeconds: number;
  /** `--max-old-space-size`: the JavaScript heap, in MiB. */
  heapMb: number;
  /** `AUTORESEARCH_MEMORY_LIMIT_MB`: what the engine may hold per device, in MiB. */
  memoryLimitMb: number;
  /** Output past this many bytes is dropped from the log (the excerpt still shows the end). */
  maxLogBytes?: number;
  /** Also copy the output here as it comes (a terminal, the Actions log). */
  echo?: NodeJS.WritableStream;
  /** Aborting it stops the run at once: SIGTERM to the process group, SIGKILL after `killGraceSeconds`. */
  signal?: AbortSignal;
  /** Seconds an aborted run gets to exit on SIGTERM before SIGKILL (default 5). */
  killGraceSeconds?: number;
  /** Turns the node command line into the one started (the sandbox wraps it; see sandbox.ts); default: as is. */
  wrap?: (argv: string[]) => Promise<string[]>;
  /** Watches the run as it goes (the budget clock, see budget-clock.ts) and may stop it. */
  monitor?: TrainMonitor;
}

/** Something that watches a training process from the runner's side. */
export interface TrainMonitor {
  /** Called once the process started; `stop` kills its process group (SIGKILL), naming why. */
  start(pid: number, stop: (reason: string) => void): void;
  /** Every chunk of its output (stdout and stderr), as it comes. */
  output(chunk: Buffer): void;
  /** Called once when it has exited. */
  end(): void;
}

/** How the process ended. */
export interface TrainProcessResult {
  /** The exit code, or null when a signal ended it. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when the runner killed it at the deadline. */
  timedOut: boolean;
  /** True when `signal` stopped it. */
  aborted: boolean;
  /** Why the monitor stopped it, or null. */
  stopped: string | null;
  /** Seconds from the start to the exit. */
  seconds: number;
  /** Seconds from the start to the first `step N` line, or null if it printed none. */
  firstStepSeconds: number | null;
  /** The last lines of the output. */
  excerpt: string;
}

const EXCERPT_LINES = 40;
const TAIL_CHARS = 16_000;
const FIRST_STEP = /(^|[\n\r])step \d+/;

/** The last `EXCERPT_LINES` non-empty lines of `text`. */
export function logExcerpt(text: string): string {
  return text.split(/\r?\n|\r/).filter((line) => line.trim() !== "").slice(-EXCERPT_LINES).join("\n");
}

/**
 * Starts `node --max-old-space-size=<heapMb> ...args` in its own process group and waits for it.
 * At `timeoutSeconds` the group is killed with SIGKILL; on abort with SIGTERM, then SIGKILL
 * after the grace period; after any exit the group is killed too. A process that left the
 * group (setsid) is stopped only by the sandbox, whose PID namespace ends with the run.
 */
export async function runTrainProcess(options: TrainProcessOptions): Promise<TrainProcessResult> {
  const { timeoutSeconds, heapMb, memoryLimitMb, maxLogBytes = 64 << 20, killGraceSeconds = 5 } = options;
  for (const [name, value] of Object.entries({ timeoutSeconds, heapMb, memoryLimitMb })) {
    if (!(Number.isFinite(value) && value > 0)) throw new Error(`Expected \`${name}\` to be a number > 0, got \`${value}\``);
  }
  const argv = [process.execPath, `--max-old-space-size=${Math.floor(heapMb)}`, ...options.args];
  const [file, ...args] = options.wrap ? await options.wrap(argv) : argv;
  options.signal?.throwIfAborted();
  const log = createWriteStream(options.logPath);
  for (const line of options.header ?? []) log.write(`${line}\n`);
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const child = spawn(file!, args, {
    cwd: options.cwd,
    env: { ...options.env, AUTORESEARCH_MEMORY_LIMIT_MB: String(Math.floor(memoryLimitMb)) },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killGroup = (kill: NodeJS.Signals = "SIGKILL") => {
    try {
      if (child.pid) process.kill(-child.pid, kill);
    } catch {
      // The group is already gone.
    }
  };

  let tail = "";
  let logged = 0;
  let firstStepSeconds: number | null = null;
  const onData = (chunk: Buffer) => {
    options.echo?.write(chunk);
    if (logged < maxLogBytes) {
      const room = maxLogBytes - logged;
      log.write(chunk.byteLength <= room ? chunk : Buffer.concat([chunk.subarray(0, room), Buffer.from(`\n[runner] log cut at ${maxLogBytes} bytes\n`)]));
    }
    logged += chunk.byteLength;
    tail = (tail + chunk.toString("utf8")).slice(-TAIL_CHARS);
    if (firstStepSeconds === null && FIRST_STEP.test(tail)) firstStepSeconds = elapsed();
    options.monitor?.output(chunk);
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);

  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutSeconds * 1000);
    let aborted = false;
    let grace: NodeJS.Timeout | undefined;
    const onAbort = () => {
      aborted = true;
      killGroup("SIGTERM");
      grace = setTimeout(killGroup, killGraceSeconds * 1000);
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    let stopped: string | null = null;
    if (child.pid) {
      options.monitor?.start(child.pid, (reason) => {
        stopped ??= reason;
        killGroup();
      });
    }
    const settle = () => {
      clearTimeout(timer);
      clearTimeout(grace);
      options.signal?.removeEventListener("abort", onAbort);
      options.monitor?.end();
    };
    let exit: { code: number | null; signal: NodeJS.Signals | null; seconds: number } | null = null;
    child.on("exit", (code, signal) => {
      exit = { code, signal, seconds: elapsed() };
      settle();
      killGroup();
    });
    child.on("error", (error) => {
      settle();
      log.end();
      reject(error);
    });
    child.on("close", () => {
      const { code, signal, seconds } = exit ?? { code: child.exitCode, signal: child.signalCode, seconds: elapsed() };
      if (timedOut) log.write(`\n[runner] killed after ${timeoutSeconds} s\n`);
      if (aborted) log.write("\n[runner] aborted\n");
      if (stopped) log.write(`\n[runner] stopped: ${stopped}\n`);
      log.end(() => resolve({ exitCode: code, signal, timedOut, aborted, stopped, seconds, firstStepSeconds, excerpt: logExcerpt(tail) }));
    });
  });
}
