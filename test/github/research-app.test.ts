import { afterEach, describe, expect, it } from "vitest";
import type { Agent, AgentTask } from "../../src/research/agent.ts";
import { formatReply } from "../../src/research/format-reply.ts";
import type { Proposal } from "../../src/research/proposal.ts";
import { FIXTURE_ROOT, researchFiles } from "../research/fixtures.ts";
import { startScriptedLlm } from "../research/scripted-llm-server.ts";
import { AppHarness, type RunOutcome } from "./app-harness.ts";
import { waiting } from "./scripted-runner.ts";

/** An agent that proposes one edit of a `const` line per call, from a list. */
class ListAgent implements Agent {
  readonly name = "list";
  readonly tasks: AgentTask[] = [];
  constructor(readonly edits: Array<[string, string]>) {}
  async propose(task: AgentTask) {
    this.tasks.push(task);
    const [search, replace] = this.edits[this.tasks.length - 1] ?? [`const SCALAR_LR = 0.5;`, `const SCALAR_LR = 0.${this.tasks.length};`];
    const proposal: Proposal = { title: `Try ${replace}`, hypothesis: `Because ${replace}.`, edits: [{ file: "train.ts", search, replace }] };
    return { proposal, text: formatReply(proposal), tokens: 10 };
  }
}

const MATRIX: [string, string] = ["const MATRIX_LR = 0.04;", "const MATRIX_LR = 0.05;"];
const DEPTH: [string, string] = ["const DEPTH = 8;", "const DEPTH = 9;"];

let h: AppHarness | undefined;
let llm: Awaited<ReturnType<typeof startScriptedLlm>> | undefined;
afterEach(async () => {
  h?.close();
  await llm?.close();
  h = llm = undefined;
});

function start(config: string, agent: Agent = new ListAgent([MATRIX, DEPTH])): AppHarness {
  h = new AppHarness({ ...researchFiles(), ".github/autoresearch.yml": config }, () => agent, { root: FIXTURE_ROOT });
  return h;
}

/** Finishes the waiting runs with the values given in order (baselines included). */
async function finishWaiting(h: AppHarness, ...outcomes: RunOutcome[]): Promise<void> {
  for (const outcome of outcomes) await h.finish(waiting(h)[0]!.number, outcome);
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
const twoBaselines = "concurrency: 2\nnoise:\n  baseline-runs: 2\n";

describe("ResearchApp", () => {
  it("closes a crash with its log excerpt, and a run that left no result as a crash", async () => {
    const h = start(twoBaselines);
    await h.research.tick();
    await finishWaiting(h, { val_bpb: 1.0 }, { val_bpb: 1.002 });
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
    expect(h.fake.invalid).toEqual([]);
  });

  it("re-runs a gain within the noise with new seeds, then closes it as inconclusive", async () => {
    const h = start("noise:\n  baseline-runs: 2\n");
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
      ["neutral", "val_bpb 1.000500 (-0.000500): inconclusive"],
      ["neutral", "val_bpb 1.000400 (-0.000600, mean of 2 runs): inconclusive"],
      ["neutral", "val_bpb 1.000467 (-0.000533, mean of 3 runs): inconclusive"],
    ]);
    expect(comments(h, pull!.number)).toEqual([expect.stringMatching(/^Closed: inconclusive after 3 runs\./)]);
    expect(h.fake.invalid).toEqual([]);
  });

  it("rebases a gain measured on a stale parent and merges it only after re-measuring it on the new head", async () => {
    const h = start(twoBaselines);
    await h.research.tick();
    await finishWaiting(h, { val_bpb: 1.0 }, { val_bpb: 1.002 });
    const [matrix, depth] = waiting(h);
    const staleHead = depth!.pull!.headSha;
    await h.finish(matrix!.number, { val_bpb: 0.99 });
    expect(h.fake.issues.get(matrix!.number)!.pull!.merged).toBe(true);
    const afterFirstMerge = h.fake.refs.get("main")!;

    await h.finish(depth!.number, { val_bpb: 0.985 });
    const rebased = h.fake.issues.get(depth!.number)!;
    expect(rebased.state).toBe("open");
    expect(rebased.pull!.headSha).not.toBe(staleHead);
    expect(h.fake.commits.get(rebased.pull!.headSha)!.parents).toEqual([staleHead, afterFirstMerge]);
    expect(h.fake.checkRuns.find((c) => c.headSha === staleHead)!.summary).toContain("updated onto its new head and measuring again");

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
    expect(squash.message).toMatch(/^Try const DEPTH = 9;: val_bpb 0\.980000 \(-0\.010500 vs 0\.990500\) \(#\d+\)/);
    expect(h.fake.invalid).toEqual([]);
  });

  it("merges exactly once when the same workflow_run is delivered again, even concurrently", async () => {
    const h = start(twoBaselines);
    await h.research.tick();
    await finishWaiting(h, { val_bpb: 1.0 }, { val_bpb: 1.002 });
    const [matrix] = waiting(h);
    const payload = await h.finish(matrix!.number, { val_bpb: 0.99 }, { deliver: false });
    await Promise.all([h.deliver("workflow_run", structuredClone(payload)), h.deliver("workflow_run", structuredClone(payload))]);
    await h.deliver("workflow_run", structuredClone(payload));

    expect(h.fake.requests.filter((r) => r.operationId === "pulls/merge")).toHaveLength(1);
    expect(h.fake.checkRuns.filter((c) => c.headSha === payload.workflow_run.head_sha)).toHaveLength(1);
    expect(comments(h, matrix!.number)).toHaveLength(1);
    expect(h.fake.issues.get(matrix!.number)!.labels).toEqual(["autoresearch", "autoresearch:improved"]);
    expect(h.fake.invalid).toEqual([]);
  });
});
