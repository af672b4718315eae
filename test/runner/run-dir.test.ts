import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { PROFILES } from "../../src/data/profiles.ts";
import { resolveDataLayout, type DataLayout } from "../../src/data/resolve-data-layout.ts";
import { GRAPH_FILE, WEIGHTS_FILE } from "../../src/data/trace-export.ts";
import { makeRunDir, readRunFile, removeRunDir, takeTrace, type RunDir } from "../../src/runner/run-dir.ts";
import { trainSourceForProfile } from "../../src/runner/train-profiles.ts";
import { PROJECT } from "./experiment-repo.ts";

const root = mkdtempSync(join(tmpdir(), "ar-run-dir-"));
const trainSource = readFileSync(join(PROJECT, "train.ts"), "utf8");
let data: DataLayout;
let runDir: RunDir;

beforeAll(async () => {
  const env = { AUTORESEARCH_PROFILE: "test", AUTORESEARCH_CACHE_DIR: join(root, "cache") };
  await execa(process.execPath, ["--import", "tsx", "prepare.ts"], { cwd: PROJECT, env });
  data = resolveDataLayout(PROFILES.test, [], env);
  runDir = await makeRunDir({ dir: join(root, "run"), harnessDir: PROJECT, trainSource, profile: PROFILES.test, data });
}, 60_000);

describe("makeRunDir", () => {
  it("copies the harness, links node_modules and build, and writes train.ts for the profile", () => {
    const { source, note } = trainSourceForProfile(trainSource, "test");
    expect(readFileSync(join(runDir.dir, "train.ts"), "utf8")).toBe(source);
    expect(runDir.note).toBe(note);
    expect(runDir.note).toMatch(/^profile test sets in train.ts: .*DEPTH = 2 \(was 8\)/);
    expect(readFileSync(join(runDir.dir, "prepare.ts"), "utf8")).toBe(readFileSync(join(PROJECT, "prepare.ts"), "utf8"));
    expect(lstatSync(join(runDir.dir, "src")).isDirectory()).toBe(true);
    expect(readFileSync(join(runDir.dir, "src/data/trace-export.ts"), "utf8")).toBe(readFileSync(join(PROJECT, "src/data/trace-export.ts"), "utf8"));
    for (const name of ["node_modules", "build"]) expect(readlinkSync(join(runDir.dir, name))).toBe(realpathSync(join(PROJECT, name)));
  });

  it("holds the training shards and the tokenizer, and an empty file where the validation shard would be", () => {
    const shards = readdirSync(data.shardDir).sort();
    const view = join(runDir.dir, "data", "shards");
    expect(readdirSync(view).sort()).toEqual(shards);
    for (const name of shards.slice(0, -1)) expect(readlinkSync(join(view, name))).toBe(realpathSync(join(data.shardDir, name)));
    const placeholder = lstatSync(join(view, shards.at(-1)!));
    expect([placeholder.isFile(), placeholder.size]).toEqual([true, 0]);
    const tokenizerDir = resolveDataLayout(PROFILES.test, [], runDir.env).tokenizerDir;
    for (const file of readdirSync(data.tokenizerDir)) expect(readFileSync(join(tokenizerDir, file))).toEqual(readFileSync(join(data.tokenizerDir, file)));
    expect(runDir.env).toEqual({
      AUTORESEARCH_PROFILE: "test", AUTORESEARCH_DATA: view, AUTORESEARCH_CACHE_DIR: join(runDir.dir, "data", "cache"),
      AUTORESEARCH_RUN_MODE: "train", AUTORESEARCH_TRACE_DIR: runDir.traceDir, TMPDIR: join(runDir.outputDir, "tmp"), HOME: join(runDir.outputDir, "tmp"),
    });
  });

  it("lists the sandbox's view: each path from its real source, out/ alone writable, neither the validation shard nor the cache", () => {
    const { readOnly, writable, cwd } = runDir.view;
    expect([writable, cwd]).toEqual([runDir.outputDir, runDir.dir]);
    expect(runDir.traceDir.startsWith(`${runDir.outputDir}/`) && runDir.summaryPath.startsWith(`${runDir.outputDir}/`)).toBe(true);
    const shards = readdirSync(data.shardDir).sort();
    const bySource = new Map(readOnly.map((m) => [m.source, m.target]));
    expect(bySource.get(realpathSync(join(PROJECT, "node_modules")))).toBe(join(runDir.dir, "node_modules"));
    expect(bySource.get(realpathSync(join(data.shardDir, shards[0]!)))).toBe(join(runDir.dir, "data", "shards", shards[0]!));
    expect(bySource.has(realpathSync(join(data.shardDir, shards.at(-1)!)))).toBe(false);
    const cache = realpathSync(data.cacheDir);
    for (const { source } of readOnly) expect(cache === source || cache.startsWith(`${source}/`)).toBe(false);
    for (const { target } of readOnly) expect(target.startsWith(`${runDir.dir}/`)).toBe(true);
  });

  it("reads a file the run left only when it is a small regular file, and never blocks on a FIFO", async () => {
    const dir = mkdtempSync(join(root, "left-"));
    writeFileSync(join(dir, "summary.json"), "{}");
    symlinkSync(join(dir, "summary.json"), join(dir, "link.json"));
    writeFileSync(join(dir, "huge.json"), Buffer.alloc((1 << 20) + 1));
    mkdirSync(join(dir, "folder.json"));
    await execa("mkfifo", [join(dir, "fifo.json")]);
    expect(await readRunFile(join(dir, "summary.json"))).toBe("{}");
    for (const name of ["link.json", "huge.json", "folder.json", "fifo.json", "missing.json"]) expect(await readRunFile(join(dir, name))).toBeNull();
  });

  it("takes the trace out of the run's output as regular files, and names what is not one", async () => {
    const run = { ...runDir, outputDir: mkdtempSync(join(root, "out-")) };
    run.traceDir = join(run.outputDir, "trace");
    expect(await takeTrace(run, join(root, "taken-0"))).toBe("missing");
    mkdirSync(run.traceDir);
    writeFileSync(join(run.traceDir, GRAPH_FILE), "{}");
    symlinkSync("/etc/passwd", join(run.traceDir, WEIGHTS_FILE));
    expect(await takeTrace(run, join(root, "taken-1"))).toEqual({ reason: "Expected the run to leave `trace/weights.bin` as a regular file, got a symbolic link" });
    const fresh = { ...run, traceDir: join(run.outputDir, "trace2") };
    mkdirSync(fresh.traceDir);
    for (const name of [GRAPH_FILE, WEIGHTS_FILE]) writeFileSync(join(fresh.traceDir, name), name);
    expect(await takeTrace(fresh, join(root, "taken-2"))).toBe("taken");
    expect(readdirSync(join(root, "taken-2")).sort()).toEqual([GRAPH_FILE, WEIGHTS_FILE].sort());
    expect(readdirSync(fresh.traceDir)).toEqual([]);
  });

  it("removes a run directory whatever it holds, folders without permissions included", async () => {
    const dir = mkdtempSync(join(root, "junk-"));
    mkdirSync(join(dir, "locked/deeper"), { recursive: true });
    writeFileSync(join(dir, "locked/deeper/file"), "x");
    chmodSync(join(dir, "locked/deeper"), 0);
    chmodSync(join(dir, "locked"), 0);
    await execa("mkfifo", [join(dir, "fifo")]);
    expect(await removeRunDir(dir)).toBeNull();
    expect(existsSync(dir)).toBe(false);
  });

  it("refuses a directory that already holds something", async () => {
    const dir = join(root, "busy");
    mkdirSync(dir);
    writeFileSync(join(dir, "x"), "");
    await expect(makeRunDir({ dir, harnessDir: PROJECT, trainSource, profile: PROFILES.test, data })).rejects.toThrow(`Expected the run directory \`${dir}\` to be empty`);
  });

  it("in run mode, prepare.ts trains from the view, withholds the validation shard, and traces instead of evaluating", async () => {
    const probe = `
      import { F, nn, persistent, type Tensor } from "./src/engine/index.ts";
      import { evaluateBpb, loadTokenizer, makeDataloader, reportResults, VOCAB_SIZE } from "./prepare.ts";
      const tokenizer = await loadTokenizer();
      const train = makeDataloader(tokenizer, 2, 64, "train");
      console.log("train batch", (await train.next()).value!.inputs.length);
      await makeDataloader(tokenizer, 2, 64, "val").next().catch((error: Error) => console.log("val:", error.message));
      class Bigram extends nn.Module {
        wte = new nn.Embedding(VOCAB_SIZE, VOCAB_SIZE);
        forward(idx: Tensor, targets: Tensor, reduction: "none") { return F.crossEntropy(this.wte.forward(idx), targets, { ignoreIndex: -1, reduction }); }
      }
      console.log("evaluateBpb", await evaluateBpb(persistent(() => new Bigram()), 2));
      await reportResults({ val_bpb: 0.5, training_seconds: 1, total_seconds: 2, peak_vram_mb: 3, mfu_percent: null, total_tokens_M: 4, num_steps: 5, num_params_M: 6, depth: 1 });
      process.exit(0);`;
    writeFileSync(join(runDir.dir, "probe.ts"), probe);
    const run = await execa(process.execPath, ["--import", "tsx", "probe.ts", "--summary-json", "summary.json"], {
      cwd: runDir.dir, env: { PATH: process.env.PATH!, ...runDir.env }, extendEnv: false, all: true,
    });
    expect(run.all).toContain("train batch 128");
    expect(run.all).toContain("val: makeDataloader: the validation shard is not available while training");
    expect(run.all).toContain("evaluateBpb NaN");
    expect(run.all).toMatch(/^val_bpb: +n\/a$/m);
    expect(JSON.parse(readFileSync(join(runDir.dir, "summary.json"), "utf8"))).toMatchObject({ val_bpb: null, num_steps: 5 });
    expect(JSON.parse(readFileSync(join(runDir.traceDir, GRAPH_FILE), "utf8")).inputs.idx.shape).toEqual([2, 64]);
  });
});
