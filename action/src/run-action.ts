/**
 * The action's steps, in order: dependencies and the native addon for the harness (both cached
 * outside the workspace), the data, then the runner from the harness (the base commit): guards,
 * timed training, evaluation in a separate process, result.json.
 */
import { createHash } from "node:crypto";
import { access, mkdir, readFile, rename, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import * as core from "@actions/core";
import { execa } from "execa";
import { parseResult, type Result } from "../../src/runner/result.ts";
import { ensureAddon } from "./addon-cache.ts";

/** The action's inputs, with paths resolved. */
export interface ActionInputs {
  baseSha: string;
  headSha: string;
  /** The base commit's checkout: the trusted harness the runner and evaluator run from. */
  harnessDir: string;
  /** A checkout that holds both commits. */
  repoDir: string;
  profile: string;
  /** Data, tokenizer, addon and node_modules caches. */
  cacheDir: string;
  /** A directory of shards or a climbmix mirror URL (AUTORESEARCH_DATA), if not the profile's default. */
  dataSource?: string;
  /** Where result.json and train.log are written. */
  resultDir: string;
  startupAllowance?: string;
  memoryLimitMb?: string;
  heapMb?: string;
  keepRunDir?: boolean;
  /** Train without the sandbox (the `no-sandbox` input). */
  noSandbox?: boolean;
}

/** Seconds since the action's process started, at the end of each phase. */
export interface ActionTimings {
  dependencies: number;
  addon: number;
  data: number;
  firstStep: number | null;
  trainEnd: number | null;
  resultWritten: number;
}

/** What the run produced. */
export interface ActionOutcome {
  result: Result;
  resultPath: string;
  logPath: string;
  addonKey: string;
  timings: ActionTimings;
}

const exists = (path: string) => access(path).then(() => true, () => false);
const now = () => performance.now() / 1000;

/** node_modules for the harness: left as is when present, else linked from the cache, else installed and cached. */
async function ensureDependencies(harnessDir: string, cacheDir: string): Promise<string> {
  const target = join(harnessDir, "node_modules");
  if (await exists(target)) return "present";
  const lock = await readFile(join(harnessDir, "package-lock.json"));
  const key = createHash("sha256").update(lock).update(`${process.version} ${process.platform}-${process.arch}`).digest("hex").slice(0, 24);
  const cached = join(cacheDir, "node_modules", key, "node_modules");
  if (await exists(cached)) {
    await symlink(cached, target);
    return "cache hit";
  }
  await execa("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: harnessDir, stdout: "inherit", stderr: "inherit" });
  try {
    await mkdir(dirname(cached), { recursive: true });
    await rename(target, cached);
  } catch {
    return "installed (not cached: another runner cached it first, or the cache is on another disk)";
  }
  await symlink(cached, target);
  return "installed and cached";
}

/** Runs every step; see the module comment. The experiment's outcome is in the result, not an exception. */
export async function runAction(inputs: ActionInputs): Promise<ActionOutcome> {
  const { harnessDir, cacheDir, profile } = inputs;
  const node = ["--import", "tsx"];
  const dependencies = await core.group("Dependencies", async () => ensureDependencies(harnessDir, cacheDir));
  core.info(`node_modules: ${dependencies}`);
  const timings: Partial<ActionTimings> = { dependencies: now() };

  const addon = await core.group("Native addon", async () => ensureAddon({ harnessDir, cacheDir }));
  core.info(`addon ${addon.key}: ${addon.hit ? "cache hit" : "built and cached"}`);
  timings.addon = now();

  await core.group("Data and tokenizer", async () => {
    await execa(process.execPath, [...node, "prepare.ts"], {
      cwd: harnessDir,
      env: { AUTORESEARCH_PROFILE: profile, AUTORESEARCH_CACHE_DIR: cacheDir, ...(inputs.dataSource ? { AUTORESEARCH_DATA: inputs.dataSource } : {}) },
      stdout: "inherit",
      stderr: "inherit",
    });
  });
  timings.data = now();

  const flags = Object.entries({ source: inputs.dataSource, "startup-allowance": inputs.startupAllowance, "memory-limit-mb": inputs.memoryLimitMb, "heap-mb": inputs.heapMb })
    .flatMap(([name, value]) => (value ? [`--${name}`, value] : []));
  const runner = await execa(
    process.execPath,
    [...node, "src/runner/cli.ts", "run", "--repo", inputs.repoDir, "--base", inputs.baseSha, "--head", inputs.headSha,
      "--out", inputs.resultDir, "--profile", profile, "--cache-dir", cacheDir, ...flags, ...(inputs.keepRunDir ? ["--keep-run-dir"] : []),
      ...(inputs.noSandbox ? ["--no-sandbox"] : [])],
    { cwd: harnessDir, stdout: ["pipe", "inherit"], stderr: "inherit" },
  );
  const report = JSON.parse(runner.stdout.trim().split("\n").at(-1)!);
  const at = (seconds: number | null) => (seconds === null ? null : (report.timings.startedAt + seconds * 1000 - performance.timeOrigin) / 1000);
  const result = parseResult(await readFile(report.resultPath, "utf8"));
  return {
    result,
    resultPath: report.resultPath,
    logPath: report.logPath,
    addonKey: addon.key,
    timings: { ...(timings as ActionTimings), firstStep: at(report.timings.firstStep), trainEnd: at(report.timings.trainEnd), resultWritten: at(report.timings.resultWritten)! },
  };
}
