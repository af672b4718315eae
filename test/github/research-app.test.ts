import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../../src/research/agent.ts";
import { formatReply } from "../../src/research/format-reply.ts";
import { FIXTURE_ROOT, researchFiles } from "../research/fixtures.ts";
import { startScriptedLlm } from "../research/scripted-llm-server.ts";
import { AppHarness, example } from "./app-harness.ts";
import { finishWaiting, MATRIX, measuredApp, QUICK_NOISE, startApp } from "./list-agent.ts";
import { waiting } from "./scripted-runner.ts";

let h: AppHarness | undefined;
let llm: Awaited<ReturnType<typeof startScriptedLlm>> | undefined;
afterEach(async () => {
  // Every request the app made must be one GitHub would accept.
  expect(h?.fake.invalid ?? []).toEqual([]);
  h?.close();
  await llm?.close();
  h = llm = undefined;
});

function start(config: string, agent?: Agent): AppHarness {
  h = startApp(config, agent);
  return h;
}

async function measured(config: string, agent?: Agent): Promise<AppHarness> {
  h = await measuredApp(config, agent);
  return h;
}

/** The commits of a pull request's branch that are not on main, newest first. */
const branchCommits = (h: AppHarness, number: number) => {
  const main = new Set<string>();
  for (let sha = h.fake.refs.get("main"); sha; sha = h.fake.commits.get(sha)!.parents[0]) main.add(sha);
  const shas: string[] = [];
  for (let sha: string | undefined = h.fake.issues.get(number)!.pull!.headSha; sha && !main.has(sha); sha = h.fake.commits.get(sha)!.parents[0]) shas.push(sha);
  return shas;
};
const comments = (h: AppHarness, number: number) => h.fake.comments.filter((c) => c.issue === number).map((c) => c.body);
const quick = QUICK_NOISE;
const twoBaselines = `concurrency: 2\n${quick}`;

describe("ResearchApp", () => {
  it("closes a crash with its log excerpt, and a run that left no result as a crash", async () => {
    const h = await measured(twoBaselines);
    const [first, second] = waiting(h);
    await h.finish(first!.number, { val_bpb: null, crash_excerpt: "RuntimeError: CUDA out of memory (tried to allocate 2.00 GiB)" });
    await h.finish(second!.number, null, { conclusion: "failure" });

    for (const pull of [first!, second!]) {
      const issue = h.fake.issues.get(pull.number)!;
      expect(issue.state).toBe("closed");
      expect(issue.labels).toContain("autoresearch:crashed");
      expect(comments(h, pull.number)).toEqual([expect.stringMatching(/^Closed: crashed\. The check `autoresearch\/val_bpb` has/)]);
    }
    const crashCheck = h.fake.checkRuns.find((c) => c.headSha === first!.pull!.headSha)!;
    expect(crashCheck).toMatchObject({ name: "autoresearch/val_bpb", conclusion: "failure", title: "crash: crashed" });
    expect(crashCheck.summary).toContain("RuntimeError: CUDA out of memory (tried to allocate 2.00 GiB)");
    const lostCheck = h.fake.checkRuns.find((c) => c.headSha === second!.pull!.headSha)!;
    expect(lostCheck.summary).toContain("the workflow run uploaded no `autoresearch-result` artifact");
    expect(waiting(h)).toHaveLength(2);
    expect(h.dashboard().body).toContain("| 0 | 0 | 2 | 0 | 2 |");
  });

  it("re-runs a gain within the noise with new seeds, then closes it as inconclusive", async () => {
    const h = start(quick);
    await h.research.tick();
    await finishWaiting(h, { val_bpb: 1.0 }, { val_bpb: 1.002 }, { val_bpb: 1.0005 });
    const [pull] = h.openPulls();
    expect(h.fake.headOf(pull!.number).message).toMatch(/Autoresearch-Seed: 43$/);
    await finishWaiting(h, { val_bpb: 1.0003 });
    expect(h.fake.headOf(pull!.number).message).toMatch(/Autoresearch-Seed: 44$/);
    await finishWaiting(h, { val_bpb: 1.0006 });

    const issue = h.fake.issues.get(pull!.number)!;
    expect(issue.state).toBe("closed");
    expect(issue.labels).toContain("autoresearch:inconclusive");
    const checks = h.fake.checkRuns.filter((c) => branchCommits(h, pull!.number).includes(c.headSha));
    expect(checks.map((c) => branchCommits(h, pull!.number).indexOf(c.headSha))).toEqual([2, 1, 0]);
    // Parent 1.001 over two runs; the candidate's mean after each run.
    expect(checks.map((c) => [c.conclusion, c.title])).toEqual([
      ["neutral", "val_bpb 1.000500 (−0.000500): inconclusive"],
      ["neutral", "val_bpb 1.000400 (−0.000600, mean of 2 runs): inconclusive"],
      ["neutral", "val_bpb 1.000467 (−0.000533, mean of 3 runs): inconclusive"],
    ]);
    expect(comments(h, pull!.number)).toEqual([expect.stringMatching(/^Closed: inconclusive after 3 runs\./)]);
  });

  it("rebases a gain measured on a stale parent and merges it only after re-measuring it on the new head", async () => {
    const h = await measured(twoBaselines);
    const [matrix, depth] = waiting(h);
    const staleHead = depth!.pull!.headSha;
    await h.finish(matrix!.number, { val_bpb: 0.99 });
    expect(h.fake.issues.get(matrix!.number)!.pull!.merged).toBe(true);
    const afterFirstMerge = h.fake.refs.get("main")!;

    await h.finish(depth!.number, { val_bpb: 0.985 });
    const rebased = h.fake.issues.get(depth!.number)!;
    expect(rebased.state).toBe("open");
    expect(rebased.pull!.headSha).not.toBe(staleHead);
    // Its own change alone, replayed in one commit on the new head.
    expect(h.fake.commits.get(rebased.pull!.headSha)!.parents).toEqual([afterFirstMerge]);
    expect(h.fake.checkRuns.find((c) => c.headSha === staleHead)!.summary).toContain("its change, replayed on the new head, is measured again");

    // The re-measure of the new head (a baseline) and the rebased experiment report.
    const remeasure = h.openPulls().find((p) => p.labels.includes("autoresearch:baseline"))!;
    expect(h.fake.files(remeasure.pull!.headSha)).toEqual(h.fake.files("main"));
    await h.finish(remeasure.number, { val_bpb: 0.991 });
    await h.finish(depth!.number, { val_bpb: 0.98 });
    expect(h.fake.issues.get(depth!.number)!.pull!.merged).toBe(true);
    const train = h.fake.files("main")["train.ts"]!;
    expect(train).toContain("const MATRIX_LR = 0.05;");
    expect(train).toContain("const DEPTH = 9;");
    const squash = h.fake.commits.get(h.fake.refs.get("main")!)!;
    expect(squash.parents).toEqual([afterFirstMerge]);
    expect(squash.message).toMatch(/^Try const DEPTH = 9;: val_bpb 0\.980000 \(−0\.011000 vs 0\.991000\) \(#\d+\)/);
  });

  it("merges exactly once when the same workflow_run is delivered again, even concurrently", async () => {
    const h = await measured(twoBaselines);
    const [matrix] = waiting(h);
    const payload = await h.finish(matrix!.number, { val_bpb: 0.99 }, { deliver: false });
    await Promise.all([h.deliver("workflow_run", structuredClone(payload)), h.deliver("workflow_run", structuredClone(payload))]);
    await h.deliver("workflow_run", structuredClone(payload));

    expect(h.fake.requests.filter((r) => r.operationId === "pulls/merge")).toHaveLength(1);
    expect(h.fake.checkRuns.filter((c) => c.headSha === payload.workflow_run.head_sha)).toHaveLength(1);
    expect(comments(h, matrix!.number)).toHaveLength(1);
    expect(h.fake.issues.get(matrix!.number)!.labels).toEqual(["autoresearch", "autoresearch:improved"]);
  });

  it("survives an LLM that returns garbage, then touches prepare.ts, then repeats itself, and reads a merged program.md next time", async () => {
    const edit = (title: string, search: string, replace: string, file = "train.ts") => formatReply({ title, hypothesis: `${title}, because.`, edits: [{ file, search, replace }] });
    llm = await startScriptedLlm([
      { reply: edit("Depth 10", "const DEPTH = 8;", "const DEPTH = 10;"), tokens: 1000 },
      { reply: "Sure! I think we should train longer.", tokens: 200 },
      { reply: edit("Longer budget", "export const TIME_BUDGET = 1;", "export const TIME_BUDGET = 100;", "prepare.ts"), tokens: 300 },
      { reply: edit("Deeper", "const DEPTH = 8;", "const  DEPTH = 10;"), tokens: 400 },
      { reply: edit("Higher matrix LR", ...MATRIX), tokens: 500 },
    ]);
    const config = `${quick}agent:\n  base-url: ${llm.url}\n  model: scripted\n  retries: 1\n`;
    // No agent given: the app builds its OpenAI agent from the config, with no key for a foreign endpoint.
    h = new AppHarness({ ...researchFiles(), ".github/autoresearch.yml": config }, undefined, { root: FIXTURE_ROOT });
    await h.research.tick();
    await finishWaiting(h, { val_bpb: 1.0 }, { val_bpb: 1.002 });
    const [depth] = h.openPulls();
    expect(depth!.title).toBe("Experiment 3: Depth 10");
    expect(llm.requests[0]!.headers.authorization).toBe("Bearer none");
    await h.finish(depth!.number, { val_bpb: 1.01 });

    // Garbage (retried), prepare.ts (refused, repaired), a duplicate (refused): no pull request, the reasons on the dashboard.
    expect(h.openPulls()).toEqual([]);
    expect(llm.requests).toHaveLength(4);
    const dashboard = h.dashboard().body;
    expect(dashboard).toContain("## Last proposal failed");
    expect(dashboard).toContain("- Expected only `train.ts` to change, got a change to `prepare.ts`");
    expect(dashboard).toContain('- Expected a new experiment, got a duplicate of the earlier experiment "Depth 10"');

    // A person merges a new program.md: the head is measured again, then the next prompt carries it.
    const program = `${researchFiles()["program.md"]}\n## Tonight\n\nOnly optimizer changes.\n`;
    h.fake.permissions.set("alice", "admin");
    await h.push("main", { "program.md": program }, "alice");
    expect(h.openPulls()[0]!.labels).toContain("autoresearch:baseline");
    for (let pull = h.openPulls()[0]; pull?.labels.includes("autoresearch:baseline"); pull = h.openPulls()[0]) await h.finish(pull.number, { val_bpb: 1.001 });
    expect(llm.requests).toHaveLength(5);
    expect(llm.requests[4]!.body.messages[0]).toEqual({ role: "system", content: program });
    expect(h.openPulls().map((p) => p.title)).toEqual([expect.stringMatching(/^Experiment \d+: Higher matrix LR$/)]);
    expect(h.dashboard().body).not.toContain("## Last proposal failed");
  });

  it("takes commands only from people with write access, acknowledges them, and applies each once", async () => {
    const h = await measured(quick);
    h.fake.permissions.set("alice", "write");
    h.fake.permissions.set("mallory", "read");
    const [pull] = h.openPulls();

    const before = h.fake.requests.length;
    const ignored = await h.comment(pull!.number, "@autoresearch discard", "mallory");
    // The app's own name was read at its first step; a permission lookup, and nothing more.
    expect(h.fake.requests.slice(before).map((r) => r.operationId)).toEqual(["repos/get-collaborator-permission-level"]);
    await h.comment(pull!.number, "@autoresearch please have a look", "alice");
    await h.comment(pull!.number, "> @autoresearch discard\nquoting is not asking", "alice");
    expect(h.fake.requests.length).toBe(before + 1);
    expect(h.fake.issues.get(pull!.number)!.state).toBe("open");
    expect(h.fake.reactions.some((r) => r.commentId === ignored)).toBe(false);

    const hold = await h.comment(pull!.number, "Looks promising.\n@autoresearch hold", "alice");
    expect(h.fake.reactions).toContainEqual({ commentId: hold, content: "+1" });
    await h.finish(pull!.number, { val_bpb: 0.95 });
    expect(h.fake.issues.get(pull!.number)!).toMatchObject({ state: "open", labels: ["autoresearch", "autoresearch:hold"] });
    expect(h.fake.checkRuns.at(-1)!.summary).toContain("On hold: the app will neither merge nor close it.");

    const rerun = await h.comment(pull!.number, "@autoresearch rerun", "alice");
    const rerunHead = h.fake.headOf(pull!.number);
    expect(rerunHead.message).toMatch(/^Re-run .* with seed 43\n\nAutoresearch-Seed: 43$/);
    await h.deliver("issue_comment", commentPayload(h, pull!.number, rerun, "@autoresearch rerun"));
    expect(h.fake.headOf(pull!.number).sha).toBe(rerunHead.sha);

    const running = h.fake.startRun(pull!.number);
    const discard = await h.comment(pull!.number, "@autoresearch discard", "alice");
    expect(h.fake.issues.get(pull!.number)!).toMatchObject({ state: "closed", labels: ["autoresearch", "autoresearch:hold", "autoresearch:discarded"] });
    expect(h.fake.workflowRuns.get(running.id)).toMatchObject({ status: "completed", conclusion: "cancelled" });
    expect(h.fake.reactions.map((r) => r.commentId)).toEqual([hold, rerun, discard]);

    const dashboard = h.dashboard().number;
    await h.comment(dashboard, "@autoresearch pause", "alice");
    expect(h.dashboard().body).toContain("**Paused**: paused by @alice.");
    const open = h.openPulls().length;
    await finishWaiting(h, { val_bpb: 1.01 });
    expect(h.openPulls().length).toBe(open - 1);
    await h.comment(dashboard, "@autoresearch resume", "alice");
    expect(h.dashboard().body).toContain("**Running**.");
    expect(h.openPulls().length).toBe(open);
  });

  it("reports an invalid config on the dashboard, starts nothing, and picks up the fix", async () => {
    const h = start("concurrency: 0\nnoise:\n  alpha: lots\ncolour: blue\n");
    await h.research.tick();
    const body = h.dashboard().body;
    expect(body).toContain("## Configuration errors");
    expect(body).toContain("- Expected `concurrency` to be an integer from 1 to 64, got `0`");
    expect(body).toContain('- Expected `noise.alpha` to be a probability from 1e-6 to 0.5, got `"lots"`');
    expect(body).toContain("- Expected only known keys in .github/autoresearch.yml, got `colour`");
    expect(body).toContain("**Paused**: the configuration has errors.");
    expect(h.pulls()).toEqual([]);

    await h.push("main", { ".github/autoresearch.yml": "concurrency: 2\n" }, "alice");
    expect(h.dashboard().body).not.toContain("## Configuration errors");
    expect(h.openPulls()).toHaveLength(2);

    await h.push("main", { ".github/autoresearch.yml": "concurrency: [oops" }, "alice");
    expect(h.dashboard().body).toMatch(/## Configuration errors[\s\S]*Configuration could not be parsed from .*autoresearch\.yml \(invalid YAML\)/);
  });

  it("pauses, resumes and re-baselines from the dashboard's checkboxes, and unticks them", async () => {
    const h = await measured(quick);
    h.fake.permissions.set("alice", "maintain");

    h.fake.permissions.set("eve", "triage");
    await h.editDashboard((body) => body.replace("- [ ] Pause the research loop", "- [x] Pause the research loop"), "eve");
    expect(h.dashboard().body).toContain("- [x] Pause the research loop");
    expect(h.dashboard().body).toContain("**Running**.");
    await h.editDashboard((body) => body.replace("- [ ] Pause the research loop", "- [x] Pause the research loop"), "alice");
    expect(h.dashboard().body).toContain("**Paused**: paused by @alice.");
    expect(h.dashboard().body).not.toContain("[x]");

    const rebaseline = await h.editDashboard((body) => body.replace("- [ ] Re-baseline", "- [x] Re-baseline").replace("- [ ] Resume", "- [x] Resume"), "alice");
    await h.deliver("issues", rebaseline);
    expect(h.dashboard().body).toContain("**Running**.");
    expect(h.dashboard().body).toContain('"epoch":1');
    // A new epoch forgets the noise: the experiment in flight waits for a new baseline of its parent.
    const isBaseline = () => h.openPulls().map((p) => p.labels.includes("autoresearch:baseline"));
    expect(isBaseline()).toEqual([false]);
    await finishWaiting(h, { val_bpb: 0.999 });
    expect(isBaseline()).toEqual([false, true]);
    expect(h.fake.checkRuns.at(-1)!.summary).toContain("Waiting for its parent's val_bpb (a baseline run) before judging.");
  });

  it("starts on installation with the dashboard and baseline runs", async () => {
    const h = start("concurrency: 2\n");
    const payload = example("installation", "created");
    payload.repositories = [{ ...payload.repositories[0], name: h.fake.repo, full_name: `${h.fake.owner}/${h.fake.repo}` }];
    await h.deliver("installation", payload);
    expect(h.dashboard().body).toContain("## In flight (2)");
    expect(h.openPulls().map((p) => p.labels)).toEqual([
      ["autoresearch", "autoresearch:baseline"],
      ["autoresearch", "autoresearch:baseline"],
    ]);
  });

  it("releases a held improvement when a person removes the hold label", async () => {
    const h = await measured(quick);
    const [pull] = h.openPulls();
    const issue = h.fake.issues.get(pull!.number)!;
    const relabel = async (action: "labeled" | "unlabeled") => {
      h.fake.setLabels(pull!.number, action === "labeled" ? [...issue.labels, "autoresearch:hold"] : issue.labels.filter((l) => l !== "autoresearch:hold"));
      const payload = example("pull_request", action);
      Object.assign(payload.pull_request, { number: pull!.number, head: { ...payload.pull_request.head, ref: issue.pull!.head, sha: issue.pull!.headSha } });
      payload.sender = { ...payload.sender, login: "alice", type: "User" };
      await h.deliver("pull_request", payload);
    };
    await relabel("labeled");
    await h.finish(pull!.number, { val_bpb: 0.95 });
    expect(issue.pull!.merged).toBe(false);
    await relabel("unlabeled");
    expect(issue.pull!.merged).toBe(true);
    expect(issue.labels).toEqual(["autoresearch", "autoresearch:improved"]);
  });
});

/** The payload of an existing comment, to deliver it again. */
function commentPayload(h: AppHarness, number: number, id: number, body: string) {
  const payload = example("issue_comment", "created");
  const issue = h.fake.issues.get(number)!;
  Object.assign(payload.issue, { number, labels: issue.labels.map((name) => ({ name })), pull_request: { url: "" } });
  Object.assign(payload.comment, { id, body, user: { login: "alice", type: "User" } });
  payload.sender = { ...payload.sender, login: "alice", type: "User" };
  return payload;
}
