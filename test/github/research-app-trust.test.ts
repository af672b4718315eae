import { afterEach, describe, expect, it } from "vitest";
import { LOCK_LEASE_MS } from "../../src/github/repo-lock.ts";
import { DEFAULT_CONFIG } from "../../src/research/research-config.ts";
import { readHyperparameters } from "../../src/runner/read-hyperparameters.ts";
import type { AppHarness, RunOutcome } from "./app-harness.ts";
import { DEPTH, finishWaiting, MATRIX, measuredApp, startApp } from "./list-agent.ts";
import { waiting } from "./scripted-runner.ts";

let h: AppHarness | undefined;
afterEach(() => {
  // Every request the app made must be one GitHub would accept.
  expect(h?.fake.invalid ?? []).toEqual([]);
  h?.close();
  h = undefined;
});

const twoBaselines = "concurrency: 2\nnoise:\n  baseline-runs: 2\n";
const isBaseline = (h: AppHarness, number: number) => h.fake.issues.get(number)!.labels.includes("autoresearch:baseline");
const checksOf = (h: AppHarness, sha: string) => h.fake.checkRuns.filter((c) => c.headSha === sha);
/** A new process takes over once the old one's lease on the lock ran out, and sweeps. */
const restartAndSweep = async (h: AppHarness) => {
  h.restart();
  h.now = new Date(h.now.getTime() + LOCK_LEASE_MS);
  await h.research.tick();
};

/** A pretend GPU run: DEPTH 9 gains 0.03, MATRIX_LR 0.05 gains 0.02, a change of SCALAR_LR loses 0.02; each seed adds up to ±0.0005 of noise. */
function score(head: { files: Record<string, string>; message: string }): RunOutcome {
  const p = Object.fromEntries(readHyperparameters(head.files["train.ts"]!).map((x) => [x.name, x.value]));
  const noise = ((Number(/Autoresearch-Seed: (\d+)/.exec(head.message)?.[1] ?? 42) * 7919) % 1000) / 1e6 - 0.0005;
  return { val_bpb: 1 - 0.03 * Number(p.DEPTH === 9) - 0.02 * Number(p.MATRIX_LR === 0.05) + 0.02 * Number(p.SCALAR_LR !== 0.5) + noise };
}

/** Finishes waiting runs (those `pick` allows, oldest first) with {@link score} until `done`, for at most 40 runs. */
async function finishUntil(h: AppHarness, done: () => boolean, pick: (p: { number: number }) => boolean = () => true): Promise<void> {
  for (let i = 0; i < 40 && !done(); i++) {
    const next = waiting(h).find(pick);
    if (!next) break;
    await h.finish(next.number, score(h.fake.headOf(next.number)));
  }
  expect(done()).toBe(true);
}

/** The lines of train.ts a commit changes against its first parent. */
function changedLines(h: AppHarness, sha: string): string[] {
  const before = h.fake.files(h.fake.commits.get(sha)!.parents[0]!)["train.ts"]!.split("\n");
  const after = h.fake.files(sha)["train.ts"]!.split("\n");
  expect(after.length).toBe(before.length);
  return after.filter((line, i) => line !== before[i]);
}

describe("ResearchApp trusts only what it made", () => {
  it("reads a workflow run only if it is its own experiment workflow run, here and in the sweep, and notes the others", async () => {
    h = await measuredApp(twoBaselines);
    const [pull] = waiting(h);
    const head = pull!.pull!.headSha;
    // A fork pushes the same commit under the same branch name: its run uploads a forged result, or fails fast.
    const fork = { headRepository: "mallory/research" };
    await h.finish(pull!.number, { val_bpb: 0.5 }, { origin: fork });
    await h.finish(pull!.number, null, { conclusion: "failure", origin: fork });
    // The same workflow file started by hand, and another workflow of the same repository.
    await h.finish(pull!.number, { val_bpb: 0.5 }, { origin: { event: "workflow_dispatch" } });
    await h.finish(pull!.number, { val_bpb: 0.5 }, { origin: { path: ".github/workflows/other-experiment.yml" } });
    const untouched = () => {
      expect(h!.fake.issues.get(pull!.number)).toMatchObject({ state: "open", labels: ["autoresearch"] });
      expect(checksOf(h!, head)).toEqual([]);
    };
    untouched();
    // What people read: the dashboard without its hidden state.
    const notes = h.dashboard().body.split("<!--")[0]!;
    expect(notes).toContain("## Ignored");
    expect(notes.match(/mallory\/research/g)).toHaveLength(2);
    expect(notes).toContain("`workflow_dispatch`");
    expect(notes).not.toContain("other-experiment.yml");

    // A new process's sweep finds the same runs and applies the same rule.
    await restartAndSweep(h);
    untouched();

    await h.finish(pull!.number, { val_bpb: 1.01 });
    expect(h.fake.issues.get(pull!.number)).toMatchObject({ state: "closed", labels: ["autoresearch", "autoresearch:regressed"] });
    expect(checksOf(h, head).map((c) => c.conclusion)).toEqual(["failure"]);
  });

  it("never reads an experiment's marker in a pull request the app did not open", async () => {
    h = await measuredApp(twoBaselines);
    const [real] = waiting(h);
    // Someone opens a pull request of their own, labelled, carrying a copy of a real experiment's marker.
    const branch = "autoresearch/2025-01-15/99";
    h.fake.push("main", {}, "nothing");
    h.fake.refs.set(branch, h.fake.refs.get("main")!);
    const body = real!.body;
    const copy = h.fake.openPull(branch, "main", "Experiment 99", body, ["autoresearch"], "mallory");
    await h.finish(real!.number, { val_bpb: 1.01 });
    await restartAndSweep(h);

    expect(h.fake.issues.get(copy.number)).toMatchObject({ state: "open", body, labels: ["autoresearch"] });
    expect(h.fake.comments.filter((c) => c.issue === copy.number)).toEqual([]);
    // The copy holds no slot: two experiments of the app's own in flight, as configured.
    const own = h.openPulls().filter((p) => p.user === "autoresearch[bot]");
    expect(own).toHaveLength(2);
    expect(h.dashboard().body).toContain("## In flight (2)");
    expect(h.dashboard().body).not.toContain("Experiment 99");
  });

  it("merges only a head whose latest check is a success that states the decision, with the check required", async () => {
    h = await measuredApp(twoBaselines);
    h.fake.requiredChecks.push("autoresearch/val_bpb");
    h.fake.permissions.set("alice", "admin");
    const [matrix] = waiting(h);
    // A person pushes to the research branch: a gain measured on the old head is updated onto the
    // new one. Its runs there report before the new head's baselines, so it is judged only when
    // those arrive, in a step that reads no run of its own.
    await h.push("main", { "program.md": "# Mind the learning rates\n" }, "alice");
    const merged = () => h!.fake.issues.get(matrix!.number)!.pull!.merged;
    for (let i = 0; i < 30 && !merged(); i++) {
      const next = waiting(h).sort((a, b) => Number(isBaseline(h!, a.number)) - Number(isBaseline(h!, b.number)))[0]!;
      await h.finish(next.number, score(h.fake.headOf(next.number)));
    }

    expect(merged()).toBe(true);
    for (const pull of h.pulls().filter((p) => p.pull!.merged)) {
      const latest = checksOf(h, pull.pull!.headSha).at(-1)!;
      expect(latest.conclusion).toBe("success");
      expect(latest.summary).toContain("**Decision: improved**");
      expect(latest.summary).toMatch(/\| parent[^|]* \| \d\.\d{6} \|/);
    }
  });

  it("updates an experiment onto a new head with its own change alone, so a rewound change never comes back", async () => {
    h = await measuredApp(twoBaselines);
    h.fake.permissions.set("alice", "admin");
    const original = h.fake.refs.get("main")!;
    const [matrix, depth] = waiting(h);
    const pull = (p: { number: number }) => h!.fake.issues.get(p.number)!;
    // MATRIX merges while DEPTH waits; then DEPTH, a gain on a stale parent, is updated onto the merge.
    await finishUntil(h, () => pull(matrix!).pull!.merged, (p) => p.number !== depth!.number);
    expect(h.fake.files("main")["train.ts"]).toContain(MATRIX[1]);
    const merge = h.fake.refs.get("main")!;
    await finishUntil(h, () => h!.fake.commits.get(pull(depth!).pull!.headSha)!.parents[0] === merge);
    // The branch is the merge plus DEPTH alone, in one commit on top of it.
    expect(changedLines(h, pull(depth!).pull!.headSha)).toEqual([DEPTH[1]]);

    // A person rewinds MATRIX away by force-pushing the research branch.
    await h.push("main", { "program.md": "# Only depth, please\n" }, "alice", original);
    const rewound = h.fake.refs.get("main")!;
    await finishUntil(h, () => pull(depth!).pull!.merged || pull(depth!).state === "closed");

    expect(pull(depth!).pull!.merged).toBe(true);
    const train = h.fake.files("main")["train.ts"]!;
    expect(train).toContain(DEPTH[1]);
    expect(train).toContain(MATRIX[0]);
    // Each squash commit since changes exactly what its title names.
    for (let sha = h.fake.refs.get("main")!; sha !== rewound; sha = h.fake.commits.get(sha)!.parents[0]!) {
      const title = /^Try (.*?): val_bpb/.exec(h.fake.commits.get(sha)!.message)![1];
      expect(changedLines(h, sha)).toEqual([title]);
    }
  });

  it("closes an experiment whose change no longer applies on the new head, saying why", async () => {
    h = await measuredApp(twoBaselines);
    h.fake.permissions.set("alice", "admin");
    const [, depth] = waiting(h);
    // A person changes the very line DEPTH changes.
    await h.push("main", { "train.ts": h.fake.files("main")["train.ts"]!.replace(DEPTH[0], "const DEPTH = 7;") }, "alice");
    const pull = () => h!.fake.issues.get(depth!.number)!;
    await finishUntil(h, () => pull().state === "closed", (p) => p.number === depth!.number);
    expect(pull().labels).toEqual(["autoresearch", "autoresearch:discarded"]);
    expect(h.fake.comments.filter((c) => c.issue === depth!.number).map((c) => c.body)).toEqual([
      expect.stringMatching(/^It improved on its parent, but its change to `train\.ts` does not apply on `main` at [0-9a-f]{7}/),
    ]);
  });

  it("keeps a dashboard people deleted, closed or locked, and keeps going when a pull request is locked", async () => {
    h = await measuredApp("noise:\n  baseline-runs: 2\n");
    h.fake.permissions.set("alice", "admin");
    // Deleted: the next step makes a new one, and the steps after it write that one.
    const deleted = h.dashboard().number;
    h.fake.deleteIssue(deleted);
    await finishWaiting(h, { val_bpb: 1.01 });
    const recreated = h.dashboard();
    expect(recreated.number).not.toBe(deleted);
    expect(recreated.body).toContain("## In flight (1)");
    const before = h.fake.requests.length;
    await finishWaiting(h, { val_bpb: 1.02 });
    expect(h.fake.requests.slice(before).filter((r) => r.status >= 400)).toEqual([]);

    // Closed: reopened at once.
    await h.closeIssue(recreated.number, "alice");
    expect(h.dashboard().state).toBe("open");

    // Locked: commands there still apply; the app cannot acknowledge them there, and says so.
    h.fake.setIssue(recreated.number, { locked: true });
    await h.comment(recreated.number, "@autoresearch pause", "alice");
    expect(h.dashboard().body).toContain("**Paused**: paused by @alice.");
    expect(h.dashboard().body).toMatch(/## Ignored[\s\S]*This dashboard is locked/);
    await h.comment(recreated.number, "@autoresearch resume", "alice");

    // A locked pull request: its outcome comment is refused; the outcome stands and the loop goes on.
    const [pull] = waiting(h);
    h.fake.setIssue(pull!.number, { locked: true });
    await h.finish(pull!.number, { val_bpb: 1.04 });
    expect(h.fake.issues.get(pull!.number)).toMatchObject({ state: "closed", labels: ["autoresearch", "autoresearch:regressed"] });
    expect(h.dashboard().body).toContain(`#${pull!.number} is locked`);
    expect(waiting(h)).toHaveLength(1);
    await finishWaiting(h, { val_bpb: 1.05 });
    expect(waiting(h)).toHaveLength(1);
  });

  it.each([
    ["concurrency: 1\n", DEFAULT_CONFIG.noise.baselineRuns],
    ["concurrency: 1\nnoise:\n  baseline-runs: 3\n", 3],
  ])("makes as many baseline runs as `noise.baseline-runs` says at concurrency 1 (%j)", async (config, runs) => {
    h = startApp(config);
    await h.research.tick();
    let baselines = 0;
    for (let i = 0; i < 10 && waiting(h).every((p) => isBaseline(h!, p.number)); i++) {
      baselines += waiting(h).length;
      await finishWaiting(h, { val_bpb: 1.0 + 0.001 * i });
    }
    expect(baselines).toBe(runs);
    expect(h.pulls().filter((p) => isBaseline(h!, p.number))).toHaveLength(runs);
  });
});
