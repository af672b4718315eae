import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { runExperiment, summaryFigures, type RunExperimentOptions } from "../../src/runner/run-experiment.ts";
import { editTrain, makeExperimentRepo, PROJECT, type ExperimentRepo } from "./experiment-repo.ts";

let repo: ExperimentRepo;
let options: (head: string, name: string) => RunExperimentOptions;

beforeAll(async () => {
  repo = await makeExperimentRepo({ linkBuild: true });
  const cacheDir = join(repo.root, "cache");
  await execa(process.execPath, ["--import", "tsx", "prepare.ts"], { cwd: PROJECT, env: { AUTORESEARCH_PROFILE: "test", AUTORESEARCH_CACHE_DIR: cacheDir } });
  options = (headSha, name) => ({ harnessDir: repo.harnessDir, repoDir: repo.repoDir, baseSha: repo.baseSha, headSha, profile: "test", cacheDir, outDir: join(repo.root, name) });
}, 60_000);

describe("runExperiment", () => {
  it("crashes a train.ts that never hands its model to evaluateBpb, and runs it with the commit's seed", async () => {
    const source = editTrain([["const val_bpb = await evaluateBpb(model, DEVICE_BATCH_SIZE);", "const val_bpb = 0.5;"]]);
    const head = await repo.commit({ "train.ts": source }, "skip the evaluation\n\nAutoresearch-Seed: 7");
    const { result, logPath, timings } = await runExperiment(options(head, "no-trace"));
    expect(result.status).toBe("crash");
    expect(result.reason).toBe("train.ts exited without handing its model to evaluateBpb, so there is nothing to evaluate");
    expect(result.seed).toBe(7);
    expect(result.num_steps).toBeGreaterThan(10);
    expect(result.reported_val_bpb).toBeNull(); // run mode: prepare.ts reports no val_bpb of train.ts's own
    expect(readFileSync(logPath, "utf8")).toMatch(/^\[runner\] [0-9a-f]{7}\.\.[0-9a-f]{7}, profile test, seed 7, killed after 140 s, in the sandbox \(bwrap\)$/m);
    expect(timings.trainStart).toBeLessThan(timings.firstStep!);
    expect(timings.firstStep).toBeLessThan(timings.trainEnd!);
    expect(timings.trainEnd).toBeLessThanOrEqual(timings.resultWritten);
  });

  it("rejects a head without train.ts", async () => {
    const removed = await repo.commit({ "train.ts": null }, "no train.ts");
    const { result } = await runExperiment(options(removed, "no-train"));
    expect(result).toMatchObject({ status: "rejected", reason: `Expected \`train.ts\` at ${removed}, but the commit has none`, val_bpb: null });
  });

  it("on abort, kills training at once, cleans up and writes no result", async () => {
    // The consts a profile sets, then a first step and a sleep instead of training.
    const consts = ["ASPECT_RATIO = 64", "HEAD_DIM = 128", "DEPTH = 8", "TOTAL_BATCH_SIZE = 2 ** 19", "DEVICE_BATCH_SIZE = 128"].map((c) => `const ${c};\n`).join("");
    const head = await repo.commit({ "train.ts": `${consts}console.log("step 00000 (0.0%) | loss: 9.0");\nsetInterval(() => {}, 1000);\n` }, "sleep instead of training");
    const controller = new AbortController();
    const echo = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (/step \d+/.test(chunk.toString())) controller.abort();
        done();
      },
    });
    const run = options(head, "aborted");
    await expect(runExperiment({ ...run, echo, signal: controller.signal })).rejects.toThrow("This operation was aborted");
    expect(readdirSync(run.outDir)).toEqual(["train.log"]);
    expect(readFileSync(join(run.outDir, "train.log"), "utf8")).toContain("[runner] aborted");
    // No process of the run is left: none has the run's directory on its command line.
    const left = readdirSync("/proc").filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(run.outDir);
      } catch {
        return false;
      }
    });
    expect(left).toEqual([]);
  });

  it("throws when the runner cannot work: an unknown profile or commit", async () => {
    await expect(runExperiment({ ...options(repo.baseSha, "x"), profile: "huge" })).rejects.toThrow("Expected the profile to be one of `default`, `cpu`, `test`, got `huge`");
    await expect(runExperiment(options("0".repeat(40), "y"))).rejects.toThrow(/rev-parse/);
  });
});

describe("summaryFigures", () => {
  it("takes the figures of a well-formed summary, with val_bpb as informational", () => {
    const summary = { val_bpb: 1.5, training_seconds: 300.1, total_seconds: 325.9, peak_vram_mb: 45060.2, mfu_percent: 39.8, total_tokens_M: 499.6, num_steps: 953, num_params_M: 50.3, depth: 8, loss_curve: [[0, 9], [1, 8.5]] };
    expect(summaryFigures(JSON.stringify(summary))).toEqual({ ...summary, reported_val_bpb: 1.5, val_bpb: undefined, total_seconds: undefined });
  });

  it("drops what does not have the right form, since train.ts wrote it", () => {
    const summary = { val_bpb: null, training_seconds: -1, peak_vram_mb: "a lot", mfu_percent: null, num_steps: 2.5, depth: 8, loss_curve: [[0, 9], [1, null], "x", [2, 7]] };
    expect(summaryFigures(JSON.stringify(summary))).toEqual({ reported_val_bpb: null, mfu_percent: null, depth: 8, loss_curve: [[0, 9], [2, 7]] });
    expect(summaryFigures("not json")).toEqual({});
    expect(summaryFigures(null)).toEqual({});
    expect(summaryFigures("[1, 2]")).toMatchObject({ loss_curve: [] });
  });
});
