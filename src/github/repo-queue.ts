import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "probot";
import { RepoLock, type Repeat } from "./repo-lock.ts";
import { repoKey, type Target } from "./session.ts";

/** A webhook waits this long at first for a lock another app process holds; each wait doubles, up to a minute. */
const LOCK_RETRY_MS = 2_000;
const LOCK_RETRY_MAX_MS = 60_000;

/** What the queue is given. */
export interface RepoQueueOptions {
  /** Probot's logger, read when used: Probot sets it up after the app is built. */
  log: () => Logger;
  /** The clock, for the lock's times. */
  now: () => Date;
  /** Waits between tries of a lock another process holds; by default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Renews a held lock's lease while a step runs; by default an interval timer. */
  repeat?: Repeat;
  /** Called when a step fails, before its lock is released: what it held in memory may be half written. */
  failed: (key: string) => void;
}

/**
 * Runs one step at a time per repository: first in this process (a chain of promises), then
 * under the repository's {@link RepoLock} in GitHub, so replicas never step on each other.
 */
export class RepoQueue {
  readonly #options: RepoQueueOptions;
  readonly #steps = new Map<string, Promise<void>>();
  readonly #locks = new Map<string, RepoLock>();
  /** This process, as the lock file names it. */
  readonly #holder = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  #stopping = false;

  constructor(options: RepoQueueOptions) {
    this.#options = options;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /**
   * Runs `step` for the target's repository after the steps queued before it. While another
   * process holds the repository's lock, a webhook's event waits for it (`wait`); a sweep
   * skips the repository, since the holder runs the same step and the next sweep comes anyway.
   * `step` learns whether no other process held the lock since this one (`fresh`).
   */
  async run(target: Target, wait: boolean, step: (fresh: boolean) => Promise<void>): Promise<void> {
    const key = repoKey(target.repo);
    if (this.#stopping) throw new Error(`autoresearch: the app is stopping, so it leaves this event on ${key} to the next process (which reads a finished run at its first sweep)`);
    const previous = this.#steps.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(() => this.#locked(target, wait, step));
    this.#steps.set(key, current);
    try {
      await current;
    } finally {
      if (this.#steps.get(key) === current) this.#steps.delete(key);
    }
  }

  /**
   * Stops the queue, as before the process exits (a redeploy): takes no more steps, waits for
   * the steps in progress until `deadline`, and frees the locks this process kept after its
   * steps, so that the next process need not wait up to a lease for them. A step still running
   * at the deadline keeps its lock, whose lease then runs out.
   */
  async stop(deadline: Promise<unknown>): Promise<void> {
    this.#stopping = true;
    await Promise.race([Promise.allSettled(this.#steps.values()), deadline]);
    const freeing = Promise.all([...this.#locks.values()].map((lock) => lock.free()));
    const freed = await Promise.race([freeing, deadline.then(() => null)]);
    const log = this.#options.log();
    if (freed === null) log.warn("autoresearch: stopped at the deadline, some locks not freed: their leases run out");
    else log.info(`autoresearch: stopped, having freed ${freed.filter(Boolean).length} of ${freed.length} locks`);
  }

  async #locked(target: Target, wait: boolean, step: (fresh: boolean) => Promise<void>): Promise<void> {
    const key = repoKey(target.repo);
    const { now, repeat } = this.#options;
    const log = this.#options.log();
    const lock = this.#locks.get(key) ?? new RepoLock(target.repo, { holder: this.#holder, now, repeat });
    this.#locks.set(key, lock);
    let delay = LOCK_RETRY_MS;
    let taken = await lock.acquire(target.octokit);
    while (!taken.acquired) {
      const by = taken.holder ? `${taken.holder.holder} (renewed at ${taken.holder.at.toISOString()})` : "another app process";
      if (!wait) {
        log.info(`autoresearch: ${key} is locked by ${by}; this sweep skips it`);
        return;
      }
      log.info(`autoresearch: ${key} is locked by ${by}; the event waits ${delay / 1000} s and tries again`);
      await (this.#options.sleep ?? sleep)(delay);
      delay = Math.min(2 * delay, LOCK_RETRY_MAX_MS);
      taken = await lock.acquire(target.octokit);
    }
    if (taken.tookOver) log.info(`autoresearch: took the lock of ${key} from ${taken.tookOver.holder}, whose lease ran out (renewed at ${taken.tookOver.at.toISOString()})`);
    try {
      await step(taken.fresh);
    } catch (error) {
      this.#options.failed(key);
      throw error;
    } finally {
      if (!(await lock.release(target.octokit))) log.warn(`autoresearch: the lock of ${key} was no longer this process's to free`);
    }
  }
}
