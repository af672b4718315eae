import { afterEach, describe, expect, it } from "vitest";
import { stopThenExit } from "../../src/github/index.ts";
import { LOCK_BRANCH, LOCK_FILE, LOCK_LEASE_MS } from "../../src/github/repo-lock.ts";
import type { Agent, AgentTask } from "../../src/research/agent.ts";
import { MutationAgent } from "../../src/research/mutation-agent.ts";
import { FIXTURE_ROOT, researchFiles } from "../research/fixtures.ts";
import { AppHarness } from "./app-harness.ts";
import { ManualRepeat } from "./manual-repeat.ts";
import { scriptedRun, waiting } from "./scripted-runner.ts";

const config = "concurrency: 2\nnoise:\n  baseline-runs: 2\nbudget:\n  experiments-per-night: 8\n";
const files = { ...researchFiles(), ".github/autoresearch.yml": config } as Record<string, string>;

let harnesses: AppHarness[] = [];
afterEach(() => {
  // Every request either process made must be one GitHub would accept.
  for (const h of harnesses) expect(h.fake.invalid).toEqual([]);
  for (const h of harnesses.reverse()) h.close();
  harnesses = [];
});

/** The first app process, on a new repository. */
function start(agent: () => Agent = () => new MutationAgent(3)): AppHarness {
  const h = new AppHarness(files, agent, { root: FIXTURE_ROOT });
  harnesses.push(h);
  return h;
}

/** Another app process on the same GitHub, as in a redeploy's overlap or with replicas. */
function replica(of: AppHarness, agent: () => Agent = () => new MutationAgent(3)): AppHarness {
  const h = new AppHarness(of.fake, agent, { root: FIXTURE_ROOT });
  h.now = of.now;
  harnesses.push(h);
  return h;
}

const lockFile = (h: AppHarness) => h.fake.files(LOCK_BRANCH)[LOCK_FILE]!;
/** Another process (not an app harness) holds the lock, renewed at `at`. */
const holdLock = (h: AppHarness, at: Date) => h.fake.createBranch(LOCK_BRANCH, { [LOCK_FILE]: `held by other-host/7/0f0f0f0f at ${at.toISOString()}\n` }, "lock");
const freeLock = (h: AppHarness) => h.fake.push(LOCK_BRANCH, { [LOCK_FILE]: `free: released by other-host/7/0f0f0f0f at ${h.now.toISOString()}\n` }, "free");

/**
 * A first process, on a new repository, in the middle of a step: the step waits inside the
 * agent's first proposal until `leave` is called.
 */
async function blockedStep(timers?: ManualRepeat) {
  let armed = false;
  let entered!: () => void;
  let leave!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const gate = new Promise<void>((resolve) => (leave = resolve));
  const slow = (): Agent => {
    const agent = new MutationAgent(3);
    const propose = async (task: AgentTask) => {
      if (armed) {
        entered();
        await gate;
      }
      return agent.propose(task);
    };
    return { name: agent.name, propose };
  };
  const a = new AppHarness(files, slow, { root: FIXTURE_ROOT, repeat: timers?.repeat });
  harnesses.push(a);
  await a.research.tick();
  const [first, second] = waiting(a);
  await finish(a, first!.number);
  armed = true;
  const step = finish(a, second!.number);
  await inside;
  return { a, step, leave };
}

/** Finishes the run of a pull request through `h`, with the scripted trainer's result. */
const finish = (h: AppHarness, number: number) => h.finish(number, scriptedRun(h, number));

/** Each pull request's head branch once, and one check per measured commit. */
function expectNoDuplicates(h: AppHarness): void {
  const heads = h.pulls().map((p) => p.pull!.head);
  expect(new Set(heads).size).toBe(heads.length);
  const checked = h.fake.checkRuns.map((c) => c.headSha);
  expect(new Set(checked).size).toBe(checked.length);
}

describe("ResearchApp across app processes", () => {
  it("lets one of two processes that sweep one repository at once open the runs; the other skips its sweep", async () => {
    const a = start();
    const b = replica(a);
    await Promise.all([a.research.tick(), b.research.tick()]);
    expect(a.pulls()).toHaveLength(2);
    expectNoDuplicates(a);
    expect(a.waits + b.waits).toBe(0);
  });

  it("serializes two webhooks that reach two processes at once; the second sees what the first did", async () => {
    const a = start();
    const b = replica(a);
    await a.research.tick();
    const [first, second] = waiting(a);
    const done = finish(a, first!.number);
    b.whileWaiting = () => done;
    await Promise.all([done, finish(b, second!.number)]);
    // b waited for a's step and lease to end, then read what a had done before proposing.
    expect(b.waits).toBeGreaterThan(0);
    const experiments = a.openPulls().filter((p) => !p.labels.includes("autoresearch:baseline"));
    expect(experiments).toHaveLength(2);
    expectNoDuplicates(a);
  });

  it("stays consistent when the webhooks of a night alternate between two processes", async () => {
    const a = start();
    const b = replica(a);
    await a.research.tick();
    for (let i = 0; waiting(a).length > 0; i++) {
      await finish(i % 2 === 0 ? b : a, waiting(a)[0]!.number);
      expect(a.openPulls().length).toBeLessThanOrEqual(2);
    }
    expect(a.pulls().filter((p) => !p.labels.includes("autoresearch:baseline"))).toHaveLength(8);
    expect(a.pulls().every((p) => p.state === "closed")).toBe(true);
    expectNoDuplicates(a);
    expect(a.fake.checkRuns).toHaveLength(a.fake.workflowRuns.size);
    // Each process frees the lock after its step, since it has seen the other.
    expect(lockFile(a)).toMatch(/^free: released by /);
  });

  it("makes a webhook wait while another process holds the lock, then handles it (a command is never lost)", async () => {
    const a = start();
    await a.research.tick();
    holdLock(a, a.now);
    a.fake.permissions.set("alice", "write");
    // The other process frees the lock while the event waits.
    a.whileWaiting = async () => freeLock(a);
    await a.comment(a.dashboard().number, "@autoresearch pause", "alice");
    expect(a.waits).toBe(1);
    expect(a.dashboard().body).toContain("**Paused**: paused by @alice");
    expect(a.fake.reactions).toEqual([{ commentId: expect.any(Number), content: "+1" }]);
  });

  it("skips a sweep while another process holds the lock, and does the work at the next sweep", async () => {
    const a = start();
    holdLock(a, a.now);
    await a.research.tick();
    expect(a.pulls()).toEqual([]);
    freeLock(a);
    await a.research.tick();
    expect(a.pulls()).toHaveLength(2);
    expect(a.waits).toBe(0);
  });

  it("takes over the lock of a process that died holding it", async () => {
    const a = start();
    holdLock(a, new Date(a.now.getTime() - 60 * 60_000));
    await a.research.tick();
    expect(a.pulls()).toHaveLength(2);
    expect(a.waits).toBe(0);
    expect(lockFile(a)).toMatch(/^free: released by /);
  });

  it("frees the lock after a step that fails, so the other process goes on at once", async () => {
    let broken = false;
    const a = start(() => (broken ? { name: "broken", propose: () => Promise.reject(new Error("the agent broke")) } : new MutationAgent(3)));
    const b = replica(a);
    await a.research.tick();
    const [first, second] = waiting(a);
    await finish(b, first!.number);
    broken = true;
    await expect(finish(a, second!.number)).rejects.toThrow("the agent broke");
    expect(lockFile(a)).toMatch(/^free: released by /);

    const waits = b.waits;
    await b.research.tick();
    expect(b.waits).toBe(waits);
    // b's sweep does the step that failed: the two proposals.
    expect(a.openPulls().filter((p) => !p.labels.includes("autoresearch:baseline"))).toHaveLength(2);
    expectNoDuplicates(a);
  });

  it("renews the lock while a step outlasts the lease, so another process keeps off, and stops renewing after it", async () => {
    const timers = new ManualRepeat();
    const { a, step, leave } = await blockedStep(timers);
    const holder = /^held by (\S+) at /.exec(lockFile(a))![1];
    const pulls = a.pulls().length;
    const b = replica(a);
    for (let i = 1; i <= 6; i++) {
      a.now = new Date(a.now.getTime() + LOCK_LEASE_MS / 3);
      await timers.fire();
      expect(lockFile(a)).toBe(`held by ${holder} at ${a.now.toISOString()}\n`);
      b.now = a.now;
      await b.research.tick();
    }
    // Two leases on, the other process's sweeps still found the lock held, and did nothing.
    expect(b.waits).toBe(0);
    expect(a.pulls()).toHaveLength(pulls);

    leave();
    await step;
    expect(a.openPulls().filter((p) => !p.labels.includes("autoresearch:baseline"))).toHaveLength(2);
    expect(timers.periods).toEqual([]);
    const after = lockFile(a);
    await timers.fire();
    expect(lockFile(a)).toBe(after);
    expectNoDuplicates(a);
  });

  it("frees the lease it kept when SIGTERM stops it, so the next process starts at once, and takes no more events", async () => {
    const a = start();
    await a.research.tick();
    await finish(a, waiting(a)[0]!.number);
    // Alone, it kept its lease after the step: a new process would wait for it to run out.
    const holder = /^held by (\S+) at /.exec(lockFile(a))![1]!;
    // What the signal runs, called here rather than sent to the test runner.
    expect(await new Promise((exit) => stopThenExit(a.research, exit)())).toBe(0);
    expect(lockFile(a)).toMatch(`free: released by ${holder} at `);

    const next = waiting(a)[0]!.number;
    await expect(finish(a, next)).rejects.toThrow("the app is stopping");
    await a.research.tick();
    expect(a.fake.checkRuns.some((c) => c.headSha === a.fake.headOf(next).sha)).toBe(false);
    // The next process reads the run the stopping one refused, without waiting.
    const b = replica(a);
    await b.research.tick();
    expect(b.waits).toBe(0);
    expect(a.fake.checkRuns.some((c) => c.headSha === a.fake.headOf(next).sha)).toBe(true);
  });

  it("lets a step in progress finish before it frees the lock", async () => {
    const { a, step, leave } = await blockedStep();
    const stopped = a.research.stop(new Promise(() => undefined));
    leave();
    await Promise.all([step, stopped]);
    expect(a.openPulls().filter((p) => !p.labels.includes("autoresearch:baseline"))).toHaveLength(2);
    expect(lockFile(a)).toMatch(/^free: released by /);
  });

  it("leaves the lock of a step still running at the deadline to its lease", async () => {
    const { a, step, leave } = await blockedStep();
    const held = lockFile(a);
    await a.research.stop(Promise.resolve());
    expect(lockFile(a)).toBe(held);
    leave();
    await step;
  });
});
