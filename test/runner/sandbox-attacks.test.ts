/**
 * Attacks on the metric through the real runner, on the test profile: each attack class is a
 * train.ts derived at test time from the project's own (code inserted after its imports), run
 * by runExperiment, by `src/runner/cli.ts run` or by `autoresearch train`. Each must end with
 * the stated status, leave the cache, the harness and result.json as they were, leave no
 * process behind, and report no val_bpb better than the honest run's.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { listShards } from "../../src/data/list-shards.ts";
import { PROFILES } from "../../src/data/profiles.ts";
import { resolveDataLayout } from "../../src/data/resolve-data-layout.ts";
import { parseResult, type Result } from "../../src/runner/result.ts";
import { runExperiment, type RunExperimentOptions } from "../../src/runner/run-experiment.ts";
import { INSTALL_BWRAP, NO_SANDBOX_WARNING, SandboxUnavailableError } from "../../src/runner/sandbox.ts";
import { makeExperimentRepo, PROJECT, type ExperimentRepo, type FileSpec } from "./experiment-repo.ts";

let repo: ExperimentRepo;
let cacheDir: string;
let valShard: string;
let trainShard: string;
let honest: Result;
let options: (head: string, name: string) => RunExperimentOptions;

/** The project's train.ts as it is now, with `code` inserted after its last import. */
function withAttack(code: string): string {
  const source = readFileSync(join(PROJECT, "train.ts"), "utf8");
  const imports = [...source.matchAll(/^import\b[^;]*;[^\n]*\n/gm)];
  const at = imports.length ? imports.at(-1)!.index! + imports.at(-1)![0].length : 0;
  return `${source.slice(0, at)}\n${code}\n${source.slice(at)}`;
}

// Reaches `process` through a computed property name, which no syntax check can follow, and
// logs each attempt; when every attempt was blocked, the run ends at once (a crash).
const PRELUDE = `
const P: any = ([] as any)["con" + "structor"]["con" + "structor"]("return pro" + "cess")();
const fs: any = P.getBuiltinModule("fs");
const childProcess: any = P.getBuiltinModule("child_process");
let attackSucceeded = false;
const attempt = (name: string, act: () => unknown) => {
  try {
    act();
    attackSucceeded = true;
    console.log("ATTACK " + name + ": succeeded");
  } catch (error: any) {
    console.log("ATTACK " + name + ": blocked (" + (error.code ?? error.status ?? error.message) + ")");
  }
};`;
const END = `if (!attackSucceeded) throw new Error("ATTACK: every attempt was blocked");`;

/** Hash of every file under `dir` (path and content), to show that nothing in it changed. */
function treeHash(dir: string): string {
  const hash = createHash("sha256");
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = join(path, entry.name);
      hash.update(child);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) hash.update(readFileSync(child));
    }
  };
  walk(dir);
  return hash.digest("hex");
}

/** Process ids whose command line contains `marker`. */
function processesWith(marker: string): string[] {
  return readdirSync("/proc").filter((pid) => {
    try {
      return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
    } catch {
      return false;
    }
  });
}

/** The attack's lines in the log: each named attempt was blocked, none succeeded. */
function expectBlocked(log: string, names: string[]): void {
  for (const name of names) expect(log).toMatch(new RegExp(`^ATTACK ${name}: blocked`, "m"));
  expect(log).not.toMatch(/^ATTACK .*: succeeded/m);
}

function expectNoBetterThanHonest(result: Result): void {
  expect(result.val_bpb === null || result.val_bpb >= honest.val_bpb!).toBe(true);
}

beforeAll(async () => {
  repo = await makeExperimentRepo({ linkBuild: true });
  cacheDir = join(repo.root, "cache");
  await execa(process.execPath, ["--import", "tsx", "prepare.ts"], { cwd: PROJECT, env: { AUTORESEARCH_PROFILE: "test", AUTORESEARCH_CACHE_DIR: cacheDir } });
  const shards = await listShards(resolveDataLayout(PROFILES.test, [], { AUTORESEARCH_CACHE_DIR: cacheDir }).shardDir);
  [valShard, trainShard] = [shards.val, shards.train[0]!];
  options = (headSha, name) => ({ harnessDir: repo.harnessDir, repoDir: repo.repoDir, baseSha: repo.baseSha, headSha, profile: "test", cacheDir, outDir: join(repo.root, name) });
  honest = (await runExperiment(options(repo.baseSha, "honest"))).result;
}, 120_000);

describe("the sandbox against train.ts", () => {
  it("trains the honest train.ts in the sandbox", () => {
    expect(honest).toMatchObject({ status: "ok", warnings: [] });
    expect(honest.val_bpb).toBeGreaterThan(0);
  });

  it("keeps the validation shard and the cache out of reach of process found by destructuring and descriptors, fs and child processes", async () => {
    const code = `${PRELUDE}
const { constructor: Fn }: any = () => 0;
const viaDestructuring: any = Fn("return pro" + "cess")();
const viaDescriptor: any = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(() => 0), "con" + "structor")!.value("return pro" + "cess")();
attempt("read-val-destructuring", () => viaDestructuring.getBuiltinModule("fs").readFileSync(${JSON.stringify(valShard)}));
attempt("read-val-descriptor", () => viaDescriptor.getBuiltinModule("fs").readFileSync(${JSON.stringify(valShard)}));
attempt("read-val-child-process", () => childProcess.execFileSync("cat", [${JSON.stringify(valShard)}], { stdio: "pipe" }));
attempt("list-cache", () => fs.readdirSync(${JSON.stringify(cacheDir)}));
attempt("read-val-placeholder", () => { if (fs.readFileSync(P.env.AUTORESEARCH_DATA + "/" + ${JSON.stringify(basename(valShard))}).length === 0) throw new Error("empty"); });
${END}`;
    const head = await repo.commit({ "train.ts": withAttack(code) }, "read the validation data");
    const { result, logPath } = await runExperiment(options(head, "read-val"));
    expectBlocked(readFileSync(logPath, "utf8"), ["read-val-destructuring", "read-val-descriptor", "read-val-child-process", "list-cache", "read-val-placeholder"]);
    expect(result.status).toBe("crash");
    expectNoBetterThanHonest(result);
  });

  it("keeps the cache read-only: the validation shard, the shards in the view, the tokenizer (through src/runner/cli.ts run)", async () => {
    const before = treeHash(cacheDir);
    const code = `${PRELUDE}
const shards = P.env.AUTORESEARCH_DATA;
attempt("overwrite-val", () => fs.writeFileSync(${JSON.stringify(valShard)}, "poisoned"));
attempt("write-cache", () => fs.writeFileSync(${JSON.stringify(join(cacheDir, "poison.txt"))}, "poisoned"));
attempt("overwrite-view-shard", () => fs.writeFileSync(shards + "/" + ${JSON.stringify(basename(trainShard))}, "poisoned"));
attempt("fill-val-placeholder", () => fs.writeFileSync(shards + "/" + ${JSON.stringify(basename(valShard))}, "poisoned"));
attempt("overwrite-tokenizer", () => childProcess.execFileSync("sh", ["-c", "for f in data/cache/*/*/*; do echo x > $f || exit 1; done"], { stdio: "pipe" }));
${END}`;
    const head = await repo.commit({ "train.ts": withAttack(code) }, "poison the cache");
    const outDir = join(repo.root, "poison-cache");
    const run = await execa(
      process.execPath,
      ["--import", "tsx", "src/runner/cli.ts", "run", "--repo", repo.repoDir, "--base", repo.baseSha, "--head", head, "--out", outDir, "--profile", "test", "--cache-dir", cacheDir],
      { cwd: repo.harnessDir, reject: false, all: true },
    );
    expect(JSON.parse(run.stdout.trim().split("\n").at(-1)!)).toMatchObject({ status: "crash", val_bpb: null });
    expectBlocked(readFileSync(join(outDir, "train.log"), "utf8"), ["overwrite-val", "write-cache", "overwrite-view-shard", "fill-val-placeholder", "overwrite-tokenizer"]);
    expect(treeHash(cacheDir)).toBe(before);
    expectNoBetterThanHonest(parseResult(readFileSync(join(outDir, "result.json"), "utf8")));
  });

  it("keeps the harness, its copy in the run directory, node_modules and the addon read-only", async () => {
    const harnessBefore = treeHash(join(repo.harnessDir, "src"));
    const code = `${PRELUDE}
attempt("harness-evaluator", () => fs.appendFileSync(${JSON.stringify(join(repo.harnessDir, "src/runner/evaluate.ts"))}, "// poisoned"));
attempt("harness-new-file", () => fs.writeFileSync(${JSON.stringify(join(repo.harnessDir, "src/runner/poison.ts"))}, "poisoned"));
attempt("copy-evaluator", () => fs.appendFileSync("src/runner/evaluate.ts", "// poisoned"));
attempt("copy-prepare", () => fs.appendFileSync("prepare.ts", "// poisoned"));
attempt("node-modules", () => fs.writeFileSync("node_modules/.poison", "poisoned"));
attempt("addon-build", () => fs.writeFileSync("build/.poison", "poisoned"));
attempt("shell-into-harness", () => childProcess.execFileSync("sh", ["-c", "echo poisoned >> src/engine/index.ts"], { stdio: "pipe" }));
${END}`;
    const head = await repo.commit({ "train.ts": withAttack(code) }, "poison the harness");
    const { result, logPath } = await runExperiment(options(head, "poison-harness"));
    expectBlocked(readFileSync(logPath, "utf8"), ["harness-evaluator", "harness-new-file", "copy-evaluator", "copy-prepare", "node-modules", "addon-build", "shell-into-harness"]);
    expect(result.status).toBe("crash");
    expect(treeHash(join(repo.harnessDir, "src"))).toBe(harnessBefore);
    const poisoned = ["node_modules/.poison", "build/.poison"].map((path) => join(PROJECT, path));
    const left = poisoned.filter((path) => existsSync(path));
    for (const path of left) rmSync(path);
    expect(left).toEqual([]);
  });

  it("leaves no process of the run behind to rewrite result.json (through autoresearch train)", async () => {
    const marker = `ar-detached-${process.pid}-${Date.now()}`;
    const fake = JSON.stringify({ ...honest, val_bpb: 0.01 });
    const code = `${PRELUDE}
// A child in its own session, out of the process group, that waits for result.json and rewrites it.
const rewrite = "const fs = require('fs'); setInterval(() => { try { if (fs.statSync(process.argv[1])) fs.writeFileSync(process.argv[1], process.argv[2]); } catch {} }, 50)";
childProcess.spawn(P.execPath, ["-e", rewrite, P.cwd() + "/../result.json", ${JSON.stringify(fake)}, ${JSON.stringify(marker)}], { detached: true, stdio: "ignore" }).unref();
console.log("ATTACK detached-child: started");
throw new Error("ATTACK: the child is left to rewrite result.json");`;
    const work = mkdtempSync(join(tmpdir(), "ar-attack-work-"));
    const cli = (args: string[]) => execa(process.execPath, [join(PROJECT, "bin/autoresearch.js"), ...args], { cwd: work, env: { AUTORESEARCH_CACHE_DIR: cacheDir }, reject: false, all: true });
    expect((await cli(["init", "repo"])).exitCode).toBe(0);
    writeFileSync(join(work, "repo/train.ts"), withAttack(code));
    const run = await cli(["train", "--profile", "test", "--dir", join(work, "repo")]);
    expect(processesWith(marker)).toEqual([]);
    expect(run.exitCode, run.all).toBe(5);
    const runs = join(work, "repo/runs");
    const [dir] = readdirSync(runs).filter((name) => name.startsWith("train-"));
    expect(readFileSync(join(runs, dir!, "train.log"), "utf8")).toContain("ATTACK detached-child: started");
    const result = parseResult(readFileSync(join(runs, dir!, "result.json"), "utf8"));
    expect(result).toMatchObject({ status: "crash", val_bpb: null });
    expect(readdirSync(join(runs, dir!)).sort()).toEqual(["result.json", "train.log"]);
  });

  it("finishes and reports whatever the run leaves in its output directory", async () => {
    const code = `${PRELUDE}
const out = P.env.AUTORESEARCH_TRACE_DIR + "/..";
fs.mkdirSync(out + "/locked/deeper", { recursive: true });
fs.writeFileSync(out + "/locked/deeper/file", "x");
fs.chmodSync(out + "/locked/deeper", 0);
fs.chmodSync(out + "/locked", 0);
childProcess.execFileSync("mkfifo", [out + "/summary.json"]);
fs.mkdirSync(P.env.AUTORESEARCH_TRACE_DIR, { recursive: true });
childProcess.execFileSync("ln", ["-s", "/etc/passwd", P.env.AUTORESEARCH_TRACE_DIR + "/graph.json"]);
fs.writeFileSync(P.env.AUTORESEARCH_TRACE_DIR + "/weights.bin", "");
P.exit(0);`;
    const head = await repo.commit({ "train.ts": withAttack(code) }, "leave junk behind");
    const run = options(head, "junk");
    const { result } = await runExperiment(run);
    expect(result).toMatchObject({ status: "rejected", reason: "Expected the run to leave `trace/graph.json` as a regular file, got a symbolic link", val_bpb: null });
    expect(readdirSync(run.outDir).sort()).toEqual(["result.json", "train.log"]);
    const log = readFileSync(join(run.outDir, "train.log"), "utf8");
    expect(log).toMatch(/^\[runner\] .*, in the sandbox \(bwrap\)$/m);
    expect(log).toContain("[runner] rejected: Expected the run to leave `trace/graph.json` as a regular file, got a symbolic link");
  });
});

describe("bad inputs are rejected with a reason, never a runner crash", () => {
  const source = () => readFileSync(join(PROJECT, "train.ts"), "utf8");
  const cases: [string, () => FileSpec, string | RegExp][] = [
    ["a symlinked train.ts", () => ({ symlink: "prepare.ts" }), "Expected `train.ts` to be a regular file (git mode 100644), got a symbolic link (mode 120000)"],
    ["an executable train.ts", () => ({ content: source(), executable: true }), "Expected `train.ts` to be a regular file (git mode 100644), got an executable file (mode 100755)"],
    ["a train.ts that is not UTF-8", () => ({ content: Buffer.concat([Buffer.from(source()), Buffer.from([0xff, 0xfe, 0x0a])]) }), "Expected `train.ts` to be UTF-8 text, got bytes that are not UTF-8"],
    ["a huge train.ts", () => `${source()}\n// ${"x".repeat(1 << 20)}\n`, /^Expected `train\.ts` to be at most 1048576 bytes, got \d+$/],
    ["DEPTH declared with let", () => source().replace(/^const DEPTH\b/m, "let DEPTH"), "`DEPTH` (declared with `let`)"],
    ["HEAD_DIM declared with var", () => source().replace(/^const HEAD_DIM\b/m, "var HEAD_DIM"), "`HEAD_DIM` (declared with `var`)"],
    ["DEPTH missing", () => source().replace(/^const DEPTH\b/m, "const LAYERS"), "`DEPTH` (not declared at the top level)"],
    ["a train.ts nested too deep for the guard", () => `${source()}\nconst deep = ${"(".repeat(5000)}1${")".repeat(5000)};\n`, /^The import guard could not read `train\.ts`: /],
  ];
  for (const [name, spec, reason] of cases) {
    it(`rejects ${name}`, async () => {
      const head = await repo.commit({ "train.ts": spec() }, name);
      const { result } = await runExperiment(options(head, `bad-${name.replace(/\W+/g, "-")}`));
      expect(result).toMatchObject({ status: "rejected", val_bpb: null });
      if (typeof reason === "string") expect(result.reason).toContain(reason);
      else expect(result.reason).toMatch(reason);
    });
  }

  it("with --no-sandbox, puts the warning in the result and the log", async () => {
    const head = await repo.commit({ "train.ts": source().replace(/^const DEPTH\b/m, "let DEPTH") }, "opted out");
    const { result, logPath } = await runExperiment({ ...options(head, "opted-out"), noSandbox: true });
    expect(result).toMatchObject({ status: "rejected", warnings: [NO_SANDBOX_WARNING] });
    expect(readFileSync(logPath, "utf8")).toContain(`[runner] warning: ${NO_SANDBOX_WARNING}`);
  });

  it("refuses to train where there is no sandbox, naming the command that installs it", async () => {
    const run = runExperiment({ ...options(repo.baseSha, "no-bwrap"), env: { PATH: "/nonexistent" } });
    await expect(run).rejects.toThrow(SandboxUnavailableError);
    await expect(run).rejects.toThrow(INSTALL_BWRAP);
    expect(statSync(join(repo.root, "no-bwrap"), { throwIfNoEntry: false })).toBeUndefined();
  });
});
