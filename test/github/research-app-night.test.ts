import { afterEach, describe, expect, it } from "vitest";
import { LOCK_LEASE_MS } from "../../src/github/repo-lock.ts";
import { MutationAgent } from "../../src/research/mutation-agent.ts";
import { FIXTURE_ROOT, researchFiles } from "../research/fixtures.ts";
import { AppHarness } from "./app-harness.ts";
import { runUntilIdle, scriptedRun, scriptedTrainer, waiting } from "./scripted-runner.ts";

const config = "concurrency: 3\nbudget:\n  experiments-per-night: 30\n";
const files = { ...researchFiles(), ".github/autoresearch.yml": config } as Record<string, string>;

let h: AppHarness | undefined;
afterEach(() => {
  // Every request the app made must be one GitHub would accept.
  expect(h?.fake.invalid ?? []).toEqual([]);
  h?.close();
});

/** Experiment pull requests (not baselines), oldest first. */
const experiments = (h: AppHarness) => h.pulls().filter((p) => !p.labels.includes("autoresearch:baseline"));

describe("a night", () => {
  it("runs 30 experiments at concurrency 3, merges one at a time, and stays within 25 requests per experiment", async () => {
    h = new AppHarness(files, () => new MutationAgent(2), { root: FIXTURE_ROOT });
    // Branch protection requires the app's check: every merge needs a success on the head it merges.
    h.fake.requiredChecks.push("autoresearch/val_bpb");
    await h.research.tick();
    expect(waiting(h)).toHaveLength(3);
    await runUntilIdle(h);

    const pulls = experiments(h);
    expect(pulls).toHaveLength(30);
    expect(pulls.every((p) => p.state === "closed")).toBe(true);
    const merged = pulls.filter((p) => p.pull!.merged);
    expect(merged.length).toBeGreaterThan(0);
    for (const p of merged) expect(h.fake.checkRuns.filter((c) => c.headSha === p.pull!.headSha).at(-1)!.conclusion).toBe("success");
    for (const p of pulls) {
      const outcome = p.labels.filter((l) => /^autoresearch:(improved|regressed|crashed|inconclusive|discarded)$/.test(l));
      expect(outcome).toEqual([p.pull!.merged ? "autoresearch:improved" : expect.stringMatching(/regressed|crashed|inconclusive|discarded/)]);
      expect(h.fake.checkRuns.some((c) => c.headSha === p.pull!.headSha && c.name === "autoresearch/val_bpb")).toBe(true);
      expect(h.fake.refs.has(p.pull!.head)).toBe(false);
    }

    // The research branch is a line of squash commits, each carrying its metric.
    const history: string[] = [];
    for (let sha = h.fake.refs.get("main"); sha; sha = h.fake.commits.get(sha)!.parents[0]) history.push(h.fake.commits.get(sha)!.message);
    expect(history).toHaveLength(merged.length + 1);
    for (const message of history.slice(0, -1)) expect(message).toMatch(/: val_bpb \d\.\d{6} \(−\d\.\d{6} vs \d\.\d{6}\) \(#\d+\)/);
    const best = scriptedTrainer(h.fake.files("main"), 0).val_bpb!;
    expect(best).toBeLessThan(scriptedTrainer(researchFiles() as unknown as Record<string, string>, 0).val_bpb!);

    // The dashboard counts add up and lists every kept change.
    const body = h.dashboard().body;
    const [kept, discarded, crashed, inconclusive, running] = /\| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|\n\n## val_bpb/.exec(body)!.slice(1).map(Number);
    expect([kept, running]).toEqual([merged.length, 0]);
    expect(kept! + discarded! + crashed! + inconclusive!).toBe(30);
    for (const p of merged) expect(body).toContain(`| #${p.number} |`);
    expect(body).toContain("```mermaid\nxychart-beta");
    expect(body).toContain("**Paused**: the budget of 30 experiments per night is spent");

    // The REST budget: at most 25 requests per experiment (baselines, re-runs and the dashboard included).
    const perExperiment = h.fake.requests.length / 30;
    expect(perExperiment, `${h.fake.requests.length} requests for 30 experiments`).toBeLessThanOrEqual(25);
  });

  it("rebuilds its state from GitHub after a restart in the middle of the night, and reads the results it missed", async () => {
    h = new AppHarness({ ...files, ".github/autoresearch.yml": "concurrency: 3\nbudget:\n  experiments-per-night: 12\n" }, () => new MutationAgent(4), { root: FIXTURE_ROOT });
    await h.research.tick();
    for (let i = 0; i < 12; i++) await h.finish(waiting(h)[0]!.number, scriptedRun(h, waiting(h)[0]!.number));

    // The app goes down; the three runs in flight finish and their webhooks are lost.
    h.restart();
    const missed = waiting(h);
    expect(missed).toHaveLength(3);
    for (const pull of missed) await h.finish(pull.number, scriptedRun(h, pull.number), { deliver: false });
    const before = h.pulls().length;
    const shas = missed.map((pull) => pull.pull!.headSha);
    // The old process's lease on the lock has not run out yet: the first sweep skips the repository.
    await h.research.tick();
    expect(h.fake.checkRuns.filter((c) => shas.includes(c.headSha))).toEqual([]);
    h.now = new Date(h.now.getTime() + LOCK_LEASE_MS);
    await h.research.tick();
    for (const sha of shas) expect(h.fake.checkRuns.filter((c) => c.headSha === sha)).toHaveLength(1);
    expect(h.pulls().length).toBeGreaterThan(before);
    await runUntilIdle(h);

    const all = h.pulls();
    expect(new Set(all.map((p) => p.pull!.head)).size).toBe(all.length);
    expect(all.every((p) => p.state === "closed")).toBe(true);
    expect(experiments(h)).toHaveLength(12);
    // Every run got exactly one check, across the restart.
    const checked = new Map<string, number>();
    for (const c of h.fake.checkRuns) checked.set(c.headSha, (checked.get(c.headSha) ?? 0) + 1);
    expect([...checked.values()].every((n) => n === 1)).toBe(true);
    expect(checked.size).toBe(h.fake.workflowRuns.size);
  });
});
