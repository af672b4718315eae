import { ProbotOctokit } from "probot";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LOCK_BRANCH, LOCK_FILE, LOCK_LEASE_MS, RepoLock, SHARED_MS } from "../../src/github/repo-lock.ts";
import { FakeGitHub } from "./fake-github.ts";
import { ManualRepeat } from "./manual-repeat.ts";

let fake: FakeGitHub;
let now: Date;
const octokit = new ProbotOctokit({ auth: { token: "ghs_test" }, throttle: { enabled: false }, retry: { enabled: false } });
const lock = (holder: string, repeat?: ManualRepeat) => new RepoLock({ owner: fake.owner, repo: fake.repo }, { holder, now: () => now, repeat: repeat?.repeat });
const file = () => fake.files(LOCK_BRANCH)[LOCK_FILE];
const later = (ms: number) => (now = new Date(now.getTime() + ms));
/** The requests `work` makes. */
const requests = async (work: () => Promise<unknown>) => {
  const before = fake.requests.length;
  await work();
  return fake.requests.slice(before).map((r) => `${r.operationId} ${r.status}`);
};

/** `from` takes the lock and ends its step alone, keeping its lease; once that runs out, `to` tries to take it. */
async function leaseRunsOut(from: RepoLock, to: RepoLock) {
  await from.acquire(octokit);
  await from.release(octokit);
  later(LOCK_LEASE_MS);
  return to.acquire(octokit);
}

beforeEach(() => {
  fake = new FakeGitHub({ "train.ts": "" });
  fake.install();
  now = new Date("2025-01-15T22:30:00Z");
});
afterEach(() => {
  // Every request the lock made must be one GitHub would accept.
  expect(fake.invalid).toEqual([]);
  fake.uninstall();
});

describe("RepoLock", () => {
  it("makes its branch on first use; another process is then refused and told who holds it", async () => {
    const a = lock("host-a/1/aaaa");
    expect(await a.acquire(octokit)).toEqual({ acquired: true, fresh: false, tookOver: null });
    expect(file()).toBe("held by host-a/1/aaaa at 2025-01-15T22:30:00.000Z\n");
    expect(fake.commits.get(fake.refs.get(LOCK_BRANCH)!)!.parents).toEqual([]);
    later(60_000);
    expect(await lock("host-b/2/bbbb").acquire(octokit)).toEqual({ acquired: false, holder: { holder: "host-a/1/aaaa", at: new Date("2025-01-15T22:30:00Z") } });
    expect(await a.release(octokit)).toBe(true);
  });

  it("alone, keeps its lease after a step and takes the lock back in one request, knowing nobody else held it", async () => {
    const a = lock("host-a/1/aaaa");
    await a.acquire(octokit);
    expect(await requests(() => a.release(octokit))).toEqual([]);
    later(LOCK_LEASE_MS * 10);
    let taken;
    expect(await requests(async () => (taken = await a.acquire(octokit)))).toEqual(["repos/create-or-update-file-contents 200"]);
    expect(taken).toMatchObject({ acquired: true, fresh: true });
  });

  it("takes over a lease that ran out, and then frees the lock after each step while the other process may be around", async () => {
    const a = lock("host-a/1/aaaa");
    const b = lock("host-b/2/bbbb");
    expect(await leaseRunsOut(a, b)).toEqual({ acquired: true, fresh: false, tookOver: { holder: "host-a/1/aaaa", at: new Date("2025-01-15T22:30:00Z") } });
    expect(await b.release(octokit)).toBe(true);
    expect(file()).toBe("free: released by host-b/2/bbbb at 2025-01-15T22:33:00.000Z\n");
    // a's own lease was taken: it learns another process works here, and that its cache is old.
    expect(await a.acquire(octokit)).toMatchObject({ acquired: true, fresh: false, tookOver: null });
    expect(await a.release(octokit)).toBe(true);
    expect(file()).toMatch(/^free: released by host-a/);
    later(SHARED_MS);
    await a.acquire(octokit);
    expect(await requests(() => a.release(octokit))).toEqual([]);
  });

  it("lets one of two processes that race for it win", async () => {
    await lock("host-c/3/cccc").acquire(octokit);
    later(LOCK_LEASE_MS);
    const results = await Promise.all([lock("host-a/1/aaaa").acquire(octokit), lock("host-b/2/bbbb").acquire(octokit)]);
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
    expect(results.find((r) => !r.acquired)).toEqual({ acquired: false, holder: null });
  });

  it("lets one of two processes that race to make it win", async () => {
    const results = await Promise.all([lock("host-a/1/aaaa").acquire(octokit), lock("host-b/2/bbbb").acquire(octokit)]);
    expect(results.map((r) => r.acquired).sort()).toEqual([false, true]);
  });

  it("keeps a renewed lease, and never frees a lock that was taken over", async () => {
    const a = lock("host-a/1/aaaa");
    const b = lock("host-b/2/bbbb");
    // a takes b's lease, so it frees the lock after its step; it renews while it works.
    await leaseRunsOut(b, a);
    later(LOCK_LEASE_MS - 1000);
    await a.renew(octokit);
    later(LOCK_LEASE_MS - 1000);
    expect(await b.acquire(octokit)).toMatchObject({ acquired: false, holder: { holder: "host-a/1/aaaa" } });
    // a stalls past its lease; b takes the lock; a's late release must not free it.
    later(LOCK_LEASE_MS);
    expect(await b.acquire(octokit)).toMatchObject({ acquired: true });
    expect(await a.release(octokit)).toBe(false);
    expect(file()).toMatch(/^held by host-b\/2\/bbbb/);
    await b.release(octokit);
  });

  it("renews its lease every third of it while held, and stops once released", async () => {
    const timers = new ManualRepeat();
    const a = lock("host-a/1/aaaa", timers);
    await a.acquire(octokit);
    expect(timers.periods).toEqual([LOCK_LEASE_MS / 3]);
    // A step that runs for two leases: each renewal moves the lease on, so nobody takes the lock.
    for (let i = 1; i <= 6; i++) {
      later(LOCK_LEASE_MS / 3);
      await timers.fire();
      expect(file()).toBe(`held by host-a/1/aaaa at ${now.toISOString()}\n`);
      expect(await lock("host-b/2/bbbb").acquire(octokit)).toMatchObject({ acquired: false, holder: { holder: "host-a/1/aaaa", at: now } });
    }
    await a.release(octokit);
    expect(timers.periods).toEqual([]);
    const released = file();
    later(LOCK_LEASE_MS);
    await timers.fire();
    expect(file()).toBe(released);
  });

  it("renews on an interval timer by default, and clears it on release", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const a = lock("host-a/1/aaaa");
      await a.acquire(octokit);
      later(LOCK_LEASE_MS / 3);
      vi.advanceTimersByTime(LOCK_LEASE_MS / 3);
      // Releasing waits for the renewal in flight; alone, it writes nothing itself.
      await a.release(octokit);
      expect(file()).toBe(`held by host-a/1/aaaa at ${now.toISOString()}\n`);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("frees a lease it kept, when the process stops, but never the lock of a step in progress", async () => {
    const a = lock("host-a/1/aaaa");
    expect(await a.free()).toBe(false);
    await a.acquire(octokit);
    expect(await requests(() => a.free())).toEqual([]);
    await a.release(octokit);
    expect(file()).toMatch(/^held by host-a/);
    expect(await a.free()).toBe(true);
    expect(file()).toBe("free: released by host-a/1/aaaa at 2025-01-15T22:30:00.000Z\n");
    expect(await requests(() => a.free())).toEqual([]);
    expect(await lock("host-b/2/bbbb").acquire(octokit)).toMatchObject({ acquired: true, tookOver: null });
  });
});
