import { createHash } from "node:crypto";
import { statusOf, type Octokit, type RepoRef } from "./octokit.ts";

/**
 * The branch that holds the lock: a history of its own with one file and no workflow, so
 * writing it runs nothing, and under `autoresearch/`, whose pushes the app ignores.
 */
export const LOCK_BRANCH = "autoresearch/lock";

/** The file on {@link LOCK_BRANCH}: who holds the lock and when they last renewed it, or who freed it. */
export const LOCK_FILE = "lock";

/** A lock not renewed for this long is free to take: its holder died, or let it run out. Holders renew every third of it. */
export const LOCK_LEASE_MS = 3 * 60_000;

/**
 * For this long after it last saw another process at the lock, a process frees the lock after
 * each step; alone, it lets the lease run out instead, which saves a request per step.
 */
export const SHARED_MS = 60 * 60_000;

/** Runs `run` every `ms` until the returned function is called; `run` returns the work it started. */
export type Repeat = (ms: number, run: () => Promise<void>) => () => void;

/** The timer in production: an interval that does not keep the process alive. */
const repeatWithTimer: Repeat = (ms, run) => {
  const timer = setInterval(run, ms);
  timer.unref();
  return () => clearInterval(timer);
};

/** Who holds a lock (or last held it), and when they took or renewed it. */
export interface LockHolder {
  holder: string;
  at: Date;
}

/** The lock was taken; `fresh` when no other process held it since this one did. */
export interface Acquired {
  acquired: true;
  fresh: boolean;
  /** The holder whose lease ran out, if the lock was taken from one. */
  tookOver: LockHolder | null;
}

/** Another process holds the lock (`holder`), or took it a moment ago (null). */
export interface Refused {
  acquired: false;
  holder: LockHolder | null;
}

const LOCK_LINE = /^(held by|free: released by) (\S+) at (\S+)$/;
const heldText = (holder: string, at: Date) => `held by ${holder} at ${at.toISOString()}\n`;
const freeText = (holder: string, at: Date) => `free: released by ${holder} at ${at.toISOString()}\n`;

/** Git's id of a file with this content, which GitHub's contents API takes as the `sha` to replace. */
const blobSha = (text: string) => createHash("sha1").update(`blob ${Buffer.byteLength(text)}\0${text}`).digest("hex");

/** Who wrote a lock file, when, and whether they hold it; null for a file that is not one. */
function parseLock(text: string): (LockHolder & { held: boolean }) | null {
  const match = LOCK_LINE.exec(text.trim());
  return match ? { held: match[1] === "held by", holder: match[2]!, at: new Date(match[3]!) } : null;
}

/**
 * One repository's lock between app processes (a redeploy's overlap, replicas), kept in
 * GitHub as the file {@link LOCK_FILE} on {@link LOCK_BRANCH}. Every write is a
 * compare-and-swap: the contents API refuses it unless the file is still the blob the writer
 * read, so two processes never both take the lock, a lease that ran out is taken over once,
 * and a release never frees a lock that someone else has taken.
 *
 * Taking it costs one request. A holder renews it every third of {@link LOCK_LEASE_MS} while
 * it works. When it has seen another process lately it frees the lock at once after its step
 * (one more request); alone, it keeps it until the lease runs out, and takes it back in one
 * write while nobody else has written it, which also tells it its cache is current.
 */
export class RepoLock {
  /** The lock file as this process last wrote it, while nobody else has written it since. */
  #written: string | undefined;
  /** When this process last saw the lock written by another one. */
  #sharedAt = -Infinity;
  #stopRenewing: (() => void) | undefined;
  #renewing: Promise<void> = Promise.resolve();
  /** The client of the last hold, to free the lock when the process stops. */
  #octokit: Octokit | undefined;

  constructor(
    readonly repo: RepoRef,
    readonly options: { holder: string; now: () => Date; leaseMs?: number; repeat?: Repeat },
  ) {}

  /** Tries once to take the lock: it succeeds when the lock is free, its lease ran out, or there is none yet. */
  async acquire(octokit: Octokit): Promise<Acquired | Refused> {
    const { holder, now, leaseMs = LOCK_LEASE_MS } = this.options;
    const held = heldText(holder, now());
    if (this.#written !== undefined) {
      // The file is still what this process left: nobody else held the lock since.
      if (await this.#write(octokit, held, this.#written)) return this.#hold(octokit, held, true, null);
      this.#written = undefined;
    }
    const current = await this.#read(octokit);
    if (current === null) {
      const made = (await this.#write(octokit, held, null)) || (await this.#create(octokit, held));
      return made ? this.#hold(octokit, held, false, null) : { acquired: false, holder: null };
    }
    const last = parseLock(current);
    if (last?.holder !== holder) this.#sharedAt = now().getTime();
    // Held by this process means a step that failed to free it; nothing runs under it now.
    const other = last?.held && last.holder !== holder ? { holder: last.holder, at: last.at } : null;
    if (other && now().getTime() - other.at.getTime() < leaseMs) return { acquired: false, holder: other };
    if (!(await this.#write(octokit, held, current))) return { acquired: false, holder: null };
    return this.#hold(octokit, held, false, other);
  }

  /**
   * Ends this process's hold: frees the lock when another process was seen within
   * {@link SHARED_MS}, else leaves the lease to run out. False when the lock was no longer
   * this process's to free (taken over, or GitHub failed).
   */
  async release(octokit: Octokit): Promise<boolean> {
    this.#stopRenewing?.();
    this.#stopRenewing = undefined;
    await this.#renewing;
    if (this.options.now().getTime() - this.#sharedAt >= SHARED_MS) return this.#written !== undefined;
    return this.#free(octokit);
  }

  /**
   * Frees a lease this process kept after its step, as a process that stops does, so that the
   * next one need not wait for it to run out. False while a step holds the lock (its lease
   * protects it until the process is gone), or when the lock is no longer this process's.
   */
  async free(): Promise<boolean> {
    if (this.#stopRenewing !== undefined || this.#written === undefined || this.#octokit === undefined) return false;
    return parseLock(this.#written)?.held ? this.#free(this.#octokit) : true;
  }

  async #free(octokit: Octokit): Promise<boolean> {
    const free = freeText(this.options.holder, this.options.now());
    const freed = this.#written !== undefined && (await this.#write(octokit, free, this.#written).catch(() => false));
    this.#written = freed ? free : undefined;
    return freed;
  }

  /** Writes the lock held again with the time now, so that its lease does not run out. */
  async renew(octokit: Octokit): Promise<void> {
    const held = heldText(this.options.holder, this.options.now());
    // A failed renewal is retried at the next one; the lease runs out only after three.
    if (this.#written !== undefined && (await this.#write(octokit, held, this.#written).catch(() => false))) this.#written = held;
  }

  #hold(octokit: Octokit, held: string, fresh: boolean, tookOver: LockHolder | null): Acquired {
    this.#written = held;
    this.#octokit = octokit;
    const { leaseMs = LOCK_LEASE_MS, repeat = repeatWithTimer } = this.options;
    this.#stopRenewing = repeat(leaseMs / 3, () => (this.#renewing = this.renew(octokit)));
    return { acquired: true, fresh, tookOver };
  }

  /** Replaces the lock file if it still reads `expected` (null: creates it if there is none); false if not. */
  async #write(octokit: Octokit, text: string, expected: string | null): Promise<boolean> {
    try {
      await octokit.rest.repos.createOrUpdateFileContents({
        ...this.repo,
        branch: LOCK_BRANCH,
        path: LOCK_FILE,
        message: text.trim(),
        content: Buffer.from(text).toString("base64"),
        ...(expected === null ? {} : { sha: blobSha(expected) }),
      });
      return true;
    } catch (error) {
      // 409: the file changed; 422: it exists (or not) unlike `expected` said; 404: no branch.
      if ([404, 409, 422].includes(statusOf(error) as number)) return false;
      throw error;
    }
  }

  /** The lock file, or null when there is none. */
  async #read(octokit: Octokit): Promise<string | null> {
    try {
      const { data } = await octokit.rest.repos.getContent({ ...this.repo, path: LOCK_FILE, ref: LOCK_BRANCH, mediaType: { format: "raw" } });
      return data as unknown as string;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }

  /** Makes the lock branch with the lock held; false when another process made it first. */
  async #create(octokit: Octokit, held: string): Promise<boolean> {
    const { data: tree } = await octokit.rest.git.createTree({ ...this.repo, tree: [{ path: LOCK_FILE, mode: "100644", type: "blob", content: held }] });
    const { data: commit } = await octokit.rest.git.createCommit({ ...this.repo, message: "The autoresearch app's lock", tree: tree.sha, parents: [] });
    try {
      await octokit.rest.git.createRef({ ...this.repo, ref: `refs/heads/${LOCK_BRANCH}`, sha: commit.sha });
      return true;
    } catch (error) {
      if (statusOf(error) === 422) return false;
      throw error;
    }
  }
}
