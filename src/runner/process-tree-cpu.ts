/**
 * The CPU time of a process and all its descendants, read from /proc by the runner (Linux).
 * With the sandbox the runner's child is bwrap and train.ts's node runs below it, in its own
 * PID namespace; the runner sees every process of the run by its host PID all the same.
 */
import { readdirSync, readFileSync } from "node:fs";

// /proc reports CPU time in USER_HZ ticks, which Linux fixes at 100 per second for user space.
const TICKS_PER_SECOND = 100;

/**
 * Reads the CPU time (user + system) of the process tree under `rootPid`. Each process counts
 * with its whole thread group, exited threads included (/proc/PID/stat); a process that has
 * exited keeps the last time read for it, so the total never goes back.
 */
export class ProcessTreeCpu {
  /** Last seen CPU seconds per process, keyed by PID and start time (a PID can be reused). */
  readonly #seen = new Map<string, number>();

  constructor(
    readonly rootPid: number,
    readonly procDir = "/proc",
  ) {}

  /** CPU seconds of every process of the tree seen so far, the ones gone included. */
  seconds(): number {
    const pending = [this.rootPid];
    const visited = new Set<number>();
    for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
      if (visited.has(pid)) continue;
      visited.add(pid);
      const stat = this.#read(`${pid}/stat`);
      if (stat === null) continue; // gone between the listing and the read
      // The command name is in parentheses and may hold anything; the fields after it are plain.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const [utime, stime, startTime] = [fields[11], fields[12], fields[19]];
      this.#seen.set(`${pid}:${startTime}`, (Number(utime) + Number(stime)) / TICKS_PER_SECOND);
      pending.push(...this.#children(pid));
    }
    let total = 0;
    for (const seconds of this.#seen.values()) total += seconds;
    return total;
  }

  /** The children of every thread of `pid` (a child belongs to the thread that started it). */
  #children(pid: number): number[] {
    let threads: string[];
    try {
      threads = readdirSync(`${this.procDir}/${pid}/task`);
    } catch {
      return [];
    }
    return threads.flatMap((tid) => (this.#read(`${pid}/task/${tid}/children`) ?? "").split(" ").filter(Boolean).map(Number));
  }

  #read(path: string): string | null {
    try {
      return readFileSync(`${this.procDir}/${path}`, "utf8");
    } catch {
      return null;
    }
  }
}
