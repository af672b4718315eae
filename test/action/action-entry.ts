/** Runs the bundled action (action/dist/index.js) the way a runner starts it, on a warm machine. */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { addonCacheKey, toolchainVersions } from "../../action/src/addon-cache.ts";
import { parseResult, type Result } from "../../src/runner/result.ts";
import { PROJECT, type ExperimentRepo } from "../runner/experiment-repo.ts";

/** Fills `cacheDir` as a warm runner has it: each profile's data prepared, the harness's addon built. */
export async function warmCaches(repo: ExperimentRepo, cacheDir: string, profiles: string[]): Promise<void> {
  for (const profile of profiles) {
    await execa(process.execPath, ["--import", "tsx", "prepare.ts"], { cwd: PROJECT, env: { AUTORESEARCH_PROFILE: profile, AUTORESEARCH_CACHE_DIR: cacheDir } });
  }
  const key = await addonCacheKey(repo.harnessDir, await toolchainVersions());
  mkdirSync(join(cacheDir, "addon"), { recursive: true });
  copyFileSync(join(PROJECT, "build/Release/autoresearch.node"), join(cacheDir, "addon", `${key}.node`));
}

export interface ActionRun {
  exitCode: number;
  /** stdout and stderr. */
  output: string;
  /** What the action wrote to GITHUB_OUTPUT. */
  outputs: Record<string, string>;
  /** What it wrote to GITHUB_STEP_SUMMARY. */
  summary: string;
  resultText: string;
  result: Result;
  resultDir: string;
}

/** Runs the action with `inputs` (as INPUT_* variables) in `dir`; outputs and summary go to files there. */
export async function runActionEntry(repo: ExperimentRepo, dir: string, inputs: Record<string, string>): Promise<ActionRun> {
  mkdirSync(dir, { recursive: true });
  const [outputFile, summaryFile, resultDir] = ["output", "summary.md", "result"].map((name) => join(dir, name));
  writeFileSync(outputFile, "");
  writeFileSync(summaryFile, "");
  const input = { "base-sha": repo.baseSha, harness: "harness", repository: "repo", "result-dir": resultDir, ...inputs };
  const run = await execa(process.execPath, [join(PROJECT, "action/dist/index.js")], {
    cwd: repo.root,
    env: {
      PATH: process.env.PATH!, HOME: process.env.HOME!, GITHUB_WORKSPACE: repo.root, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile,
      ...Object.fromEntries(Object.entries(input).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    },
    extendEnv: false,
    reject: false,
    all: true,
  });
  // GITHUB_OUTPUT holds `name<<delimiter`, the value, `delimiter` for each output.
  const outputs = Object.fromEntries([...readFileSync(outputFile, "utf8").matchAll(/^(.+)<<(.+)\n([^]*?)\n\2$/gm)].map((m) => [m[1], m[3]]));
  let resultText: string;
  try {
    resultText = readFileSync(join(resultDir, "result.json"), "utf8");
  } catch {
    throw new Error(`The action wrote no result.json (exit ${run.exitCode}):\n${(run.all ?? "").slice(-3000)}`);
  }
  return { exitCode: run.exitCode ?? -1, output: run.all ?? "", outputs, summary: readFileSync(summaryFile, "utf8"), resultText, result: parseResult(resultText), resultDir };
}
