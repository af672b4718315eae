import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatReply } from "../../src/research/format-reply.ts";
import type { Edit } from "../../src/research/proposal.ts";
import { setTrainConsts } from "../../src/runner/train-profiles.ts";
import { CHART_SIZE } from "../../src/local/progress-chart.ts";
import { readState } from "../../src/local/local-state.ts";
import { groupAlive, procStat } from "../helpers/group-alive.ts";
import { startScriptedLlm } from "../research/scripted-llm-server.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
const BIN = path.join(REPO, "bin", "autoresearch.js");
const root = mkdtempSync(path.join(tmpdir(), "ar-cli-"));

/** The environment of a fresh machine: no LLM settings, a private data cache. */
const env: Record<string, string> = Object.fromEntries(
  Object.entries({ ...process.env, AUTORESEARCH_CACHE_DIR: path.join(root, "cache") }).filter(([key, value]) => value !== undefined && !key.startsWith("OPENAI_")),
) as Record<string, string>;

function cli(args: string[], extraEnv: Record<string, string> = {}): ResultPromise<{ all: true; reject: false }> {
  return execa(process.execPath, [BIN, ...args], { cwd: root, env: { ...env, ...extraEnv }, extendEnv: false, all: true, reject: false }) as never;
}

const git = async (dir: string, ...args: string[]) => (await execa("git", args, { cwd: dir })).stdout;

// The learning rates of the fixture's train.ts, 100 times too small, so that fixing them is a gain no noise can hide.
const GOOD = { EMBEDDING_LR: "0.6", UNEMBEDDING_LR: "0.004", MATRIX_LR: "0.04", SCALAR_LR: "0.5" };
const CRIPPLED = { EMBEDDING_LR: "0.006", UNEMBEDDING_LR: "0.00004", MATRIX_LR: "0.0004", SCALAR_LR: "0.005" };
const TINY = { EMBEDDING_LR: "0.0006", UNEMBEDDING_LR: "0.000004", MATRIX_LR: "0.00004", SCALAR_LR: "0.0005" };

const edits = (from: Record<string, string>, to: Record<string, string>): Edit[] =>
  Object.keys(from).map((name) => ({ file: "train.ts", search: `const ${name} = ${from[name]};`, replace: `const ${name} = ${to[name]};` }));

const IMPROVE = { title: "Restore the learning rates", hypothesis: "They are 100x too small to learn in the budget.", edits: edits(CRIPPLED, GOOD) };
const REGRESS = { title: "Cut the learning rates 1000x", hypothesis: "Smaller steps are more stable.", edits: edits(GOOD, TINY) };
const CRASH = {
  title: "An invalid window pattern",
  hypothesis: "X windows do not exist, so this run fails.",
  edits: [{ file: "train.ts", search: 'const WINDOW_PATTERN = "SSSL";', replace: 'const WINDOW_PATTERN = "SSXL";' }],
};

/** A work repository made by `autoresearch init`, with the learning rates crippled in a second commit. */
async function crippledRepo(name: string): Promise<string> {
  const init = await cli(["init", name]);
  expect(init.exitCode, init.all).toBe(0);
  const dir = path.join(root, name);
  const train = path.join(dir, "train.ts");
  writeFileSync(train, setTrainConsts(readFileSync(train, "utf8"), CRIPPLED).source);
  await git(dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-am", "Cripple the learning rates");
  return dir;
}

/** The width and height in a PNG's IHDR chunk, after checking the signature. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(bytes.toString("latin1", 12, 16)).toBe("IHDR");
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** Waits until a run directory of `dir` not in `seen` has a log that shows a training step, or `command` ends; returns its name. */
async function training(dir: string, command: ResultPromise, seen: string[] = []): Promise<string> {
  const runs = path.join(dir, "runs");
  const started = () =>
    (existsSync(runs) ? readdirSync(runs) : []).find((name) => {
      const log = path.join(runs, name, "train.log");
      return !seen.includes(name) && existsSync(log) && /\nstep \d+/.test(readFileSync(log, "utf8"));
    });
  while (!started() && command.exitCode === null) await sleep(100);
  return started()!;
}

/** The process group of the training process of a run in `dir`, if one is running. */
function trainingGroup(dir: string): number | null {
  for (const pid of readdirSync("/proc")) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    const stat = procStat(pid);
    if (stat && cmdline.includes("train.ts") && cmdline.includes(dir)) return Number(stat[2]);
  }
  return null;
}

const refs = async (dir: string) => (await git(dir, "for-each-ref", "--format=%(refname) %(objectname)")).split("\n");

let llm: Awaited<ReturnType<typeof startScriptedLlm>> | undefined;
afterAll(async () => {
  await llm?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("autoresearch local", () => {
  beforeAll(() => mkdirSync(path.join(root, "cache"), { recursive: true }));

  it("runs 3 experiments (an improvement, a regression, a crash) in a git repository and writes the ledger and the report", async () => {
    const dir = await crippledRepo("night");
    const seed = await git(dir, "rev-parse", "HEAD");
    llm = await startScriptedLlm([{ reply: formatReply(IMPROVE) }, { reply: formatReply(REGRESS) }, { reply: formatReply(CRASH) }]);
    const run = await cli(["local", "--dir", dir, "--profile", "test", "--experiments", "3"], { OPENAI_BASE_URL: llm.url });
    expect(run.exitCode, run.all).toBe(0);
    expect(run.all).toContain(`Agent: the OpenAI-compatible agent openai:gpt-4.1 at ${llm.url}, because OPENAI_BASE_URL is set.`);
    expect(llm.requests).toHaveLength(3);

    // Baselines 1 and 2, the improvement 3 (its two confirmation runs are the new head's fresh runs), the regression 4 and the crash 5.
    const { state } = (await readState(dir))!;
    expect(state.experiments.map((e) => [e.n, e.kind, e.state, e.outcome])).toEqual([
      [1, "baseline", "closed", "measured"],
      [2, "baseline", "closed", "measured"],
      [3, "experiment", "merged", "improved"],
      [4, "experiment", "closed", "regressed"],
      [5, "experiment", "closed", "crashed"],
    ]);
    const [, , improved, regressed, crashed] = state.experiments;
    const runName = improved!.branch.split("/")[1];

    // The research branch: the squash merge of the improvement, with its metric, on top of the seed commit.
    const subjects = (await git(dir, "log", "--format=%s", "main")).split("\n");
    expect(subjects).toHaveLength(3);
    expect(subjects[0]).toBe(`Restore the learning rates: val_bpb ${improved!.decision!.candidate!.toFixed(6)} (−${Math.abs(improved!.decision!.delta!).toFixed(6)} vs ${improved!.decision!.parent!.toFixed(6)}) (autoresearch/${runName}/3)`);
    expect(await git(dir, "rev-parse", "main~1")).toBe(seed);
    expect(await git(dir, "diff", "--name-only", "main~1", "main")).toBe("train.ts");
    expect(await git(dir, "rev-parse", "main^{tree}")).toBe(improved!.head.tree);
    expect(readFileSync(path.join(dir, "train.ts"), "utf8")).toContain("const MATRIX_LR = 0.04;");
    expect(await git(dir, "status", "--porcelain")).toBe("");

    // Closed experiments are kept as refs; no experiment branch is left.
    const all = await refs(dir);
    expect(all).toContain(`refs/autoresearch/kept/${runName}/3 ${improved!.head.sha}`);
    expect(all).toContain(`refs/autoresearch/discarded/${runName}/4 ${regressed!.head.sha}`);
    expect(all).toContain(`refs/autoresearch/discarded/${runName}/5 ${crashed!.head.sha}`);
    expect(all.filter((r) => r.startsWith("refs/heads/"))).toEqual([`refs/heads/main ${await git(dir, "rev-parse", "main")}`]);
    expect(await git(dir, "show", `refs/autoresearch/discarded/${runName}/5:train.ts`)).toContain('const WINDOW_PATTERN = "SSXL";');

    // results.tsv against the runner's own result.json files.
    const results = readdirSync(path.join(dir, "runs")).map((name) => JSON.parse(readFileSync(path.join(dir, "runs", name, "result.json"), "utf8")));
    const byHead = new Map(results.map((r) => [r.head_sha as string, r]));
    // Seven runs: two baselines, the improvement's test run and two confirmation runs, the regression, the crash.
    expect(results).toHaveLength(7);
    const rows = readFileSync(path.join(dir, "results.tsv"), "utf8").trimEnd().split("\n").map((line) => line.split("\t"));
    expect(rows[0]).toEqual(["commit", "val_bpb", "memory_gb", "status", "description"]);
    expect(rows.slice(1).map((r) => r[3])).toEqual(["keep", "keep", "keep", "discard", "crash"]);
    for (const [i, e] of state.experiments.entries()) {
      const row = rows[i + 1]!;
      const result = byHead.get(e.head.sha)!;
      expect(row[0]).toBe(e.head.sha.slice(0, 7));
      // A judged experiment is known by its judged value: for the improvement, the mean of its fresh runs.
      expect(row[1]).toBe((e.decision?.candidate ?? (result.status === "ok" ? result.val_bpb : 0)).toFixed(6));
      expect(row[2]).toBe((result.peak_vram_mb / 1024).toFixed(1));
      expect(row[4]).toBe(e.kind === "baseline" ? `baseline: ${e.title}` : e.title);
    }
    expect(byHead.get(crashed!.head.sha)!.status).toBe("crash");
    expect(byHead.get(improved!.head.sha)!.val_bpb).toBeLessThan(byHead.get(state.experiments[0]!.head.sha)!.val_bpb - 0.5);

    const ledger = readFileSync(path.join(dir, "ledger.jsonl"), "utf8").trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(ledger).toEqual(state.experiments);
    expect(ledger[4].measurements[0].crashExcerpt).toContain("SSXL");

    // The report: the table in the terminal, report.md and the chart.
    expect(run.all).toMatch(/3 experiments \(1 kept, 1 discarded, 1 crashed, 0 running\) and 2 baseline runs/);
    const report = readFileSync(path.join(dir, "report.md"), "utf8");
    expect(report).toContain(`| 1 | \`autoresearch/${runName}/3\` | Restore the learning rates |`);
    expect(report).toContain("![val_bpb per experiment](progress.png)");
    expect(pngSize(readFileSync(path.join(dir, "progress.png")))).toEqual(CHART_SIZE);
    const again = await cli(["report", "--dir", dir]);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.all).toContain("Cut the learning rates 1000x");
  }, 300_000);

  it("stops after the current step on SIGINT, at once on a second SIGINT, leaves the repository consistent, and resumes", async () => {
    const dir = await crippledRepo("interrupted");
    llm = await startScriptedLlm([{ reply: formatReply(IMPROVE) }]);
    const args = ["local", "--dir", dir, "--profile", "test", "--experiments", "1"];
    const runs = path.join(dir, "runs");
    const first = cli(args, { OPENAI_BASE_URL: llm.url });
    const firstRun = await training(dir, first);
    first.kill("SIGINT");
    const stopped = await first;
    expect(stopped.exitCode, stopped.all).toBe(130);
    expect(stopped.all).toContain("Stopped by Ctrl-C after the current step");

    // Consistent: the run that was training finished and is recorded; its branch is where the state says.
    const { state } = (await readState(dir))!;
    expect(state.experiments).toHaveLength(1);
    const [baseline] = state.experiments;
    expect(baseline).toMatchObject({ n: 1, kind: "baseline", state: "open" });
    expect(baseline!.measurements.map((m) => [m.sha, m.status])).toEqual([[baseline!.head.sha, "ok"]]);
    expect((await refs(dir)).filter((r) => r.includes("/heads/autoresearch/"))).toEqual([`refs/heads/${baseline!.branch} ${baseline!.head.sha}`]);
    expect(await git(dir, "status", "--porcelain")).toBe("");
    expect(readdirSync(path.join(runs, firstRun))).toEqual(["result.json", "train.log"]);
    await execa("git", ["fsck", "--no-progress", "--no-dangling"], { cwd: dir });

    // A second run; two Ctrl-Cs during the next training run kill its process group and record nothing.
    const second = cli(args, { OPENAI_BASE_URL: llm.url });
    let output = "";
    second.all.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const secondRun = await training(dir, second, [firstRun]);
    const group = trainingGroup(dir);
    expect(group).not.toBeNull();
    second.kill("SIGINT");
    while (!output.includes("Stopping after the current step") && second.exitCode === null) await sleep(50);
    second.kill("SIGINT");
    const aborted = await second;
    expect(aborted.exitCode, aborted.all).toBe(130);
    expect(aborted.all).toContain("Stopped by Ctrl-C at once");
    expect(await groupAlive(group!)).toBe(false);
    const interrupted = (await readState(dir))!.state.experiments;
    expect(interrupted.map((e) => [e.n, e.kind, e.state, e.measurements.length])).toEqual([
      [1, "baseline", "closed", 1],
      [2, "baseline", "open", 0],
    ]);
    expect(readdirSync(path.join(runs, secondRun))).toEqual(["train.log"]);
    expect(await git(dir, "status", "--porcelain")).toBe("");
    await execa("git", ["fsck", "--no-progress", "--no-dangling"], { cwd: dir });

    const resumed = await cli(args, { OPENAI_BASE_URL: llm.url });
    expect(resumed.exitCode, resumed.all).toBe(0);
    const after = (await readState(dir))!.state.experiments;
    expect(after.map((e) => [e.n, e.kind, e.state])).toEqual([
      [1, "baseline", "closed"],
      [2, "baseline", "closed"],
      [3, "experiment", "merged"],
    ]);
    expect(after[0]!.measurements).toEqual(baseline!.measurements);
    expect(llm.requests).toHaveLength(1);
    expect(readFileSync(path.join(dir, "results.tsv"), "utf8").trimEnd().split("\n")).toHaveLength(4);
  }, 300_000);
});

describe("autoresearch train", () => {
  it("kills the training run on Ctrl-C, with its process group", async () => {
    const dir = await crippledRepo("train-interrupted");
    const run = cli(["train", "--dir", dir, "--profile", "test"]);
    await training(dir, run);
    const group = trainingGroup(dir);
    expect(group).not.toBeNull();
    run.kill("SIGINT");
    const stopped = await run;
    expect(stopped.exitCode, stopped.all).toBe(130);
    expect(stopped.all).toContain("Stopped by Ctrl-C; the training run was killed.");
    expect(await groupAlive(group!)).toBe(false);
  }, 120_000);
});

describe("autoresearch local refuses bad input", () => {
  it("a directory that is not a git repository", async () => {
    const dir = mkdtempSync(path.join(root, "plain-"));
    const run = await cli(["local", "--dir", dir, "--profile", "test"]);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toBe(`autoresearch: Expected \`--dir\` to be a git repository, got \`${dir}\`, which is not one. Create one with \`autoresearch init DIR\`, or run \`git init\` there and commit train.ts, prepare.ts and program.md.`);
  });

  it("a dirty working tree, which it leaves alone (never stashed)", async () => {
    const dir = await crippledRepo("dirty");
    const edited = `${readFileSync(path.join(dir, "train.ts"), "utf8")}// my own edit\n`;
    writeFileSync(path.join(dir, "train.ts"), edited);
    const run = await cli(["local", "--dir", dir, "--profile", "test"]);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain(`Expected a clean working tree in ${dir}, got local changes to \`train.ts\`. Commit or stash them yourself`);
    expect(await git(dir, "stash", "list")).toBe("");
    expect(readFileSync(path.join(dir, "train.ts"), "utf8")).toBe(edited);
    expect(await readState(dir)).toBeNull();
  });

  it("a repository without train.ts", async () => {
    const dir = await crippledRepo("no-train");
    await git(dir, "rm", "--quiet", "train.ts");
    await git(dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "No train.ts");
    const run = await cli(["local", "--dir", dir, "--profile", "test"]);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain(`Expected \`train.ts\` on the research branch \`main\` of ${dir}, got no such file.`);
  });

  it("an unknown profile", async () => {
    const run = await cli(["local", "--profile", "h100"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toBe("autoresearch: Expected `--profile` to be one of cpu, gpu or test, got `h100`");
  });

  it("an unreachable LLM endpoint, suggesting the offline agent", async () => {
    const dir = await crippledRepo("unreachable");
    // A loopback port that was just free: nothing listens on it.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const url = `http://127.0.0.1:${port}/v1`;
    const run = await cli(["local", "--dir", dir, "--profile", "test"], { OPENAI_BASE_URL: url });
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain(`Expected the LLM endpoint ${url} to be reachable, got connect ECONNREFUSED 127.0.0.1:${port}.`);
    expect(run.stderr).toContain("`--agent offline`");
    expect(await readState(dir)).toBeNull();
  });
});
