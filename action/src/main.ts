/**
 * The GitHub Action's entry: reads the inputs, runs the experiment (see run-action.ts), sets the
 * outputs, writes the job summary, and fails the step unless the status is `ok`.
 */
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as core from "@actions/core";
import { formatJobSummary } from "./job-summary.ts";
import { runAction } from "./run-action.ts";

const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
const path = (name: string, fallback: string) => resolve(workspace, core.getInput(name) || fallback);

try {
  const resultDir = path("result-dir", join(process.env.RUNNER_TEMP ?? tmpdir(), "autoresearch-result"));
  core.setOutput("result-dir", resultDir);
  const { result, addonKey, timings } = await runAction({
    baseSha: core.getInput("base-sha", { required: true }),
    headSha: core.getInput("head-sha", { required: true }),
    harnessDir: path("harness", "harness"),
    repoDir: path("repository", "experiment"),
    profile: core.getInput("profile") || "default",
    cacheDir: path("cache-dir", join(homedir(), ".cache", "autoresearch")),
    dataSource: core.getInput("data-source"),
    resultDir,
    startupAllowance: core.getInput("startup-allowance"),
    memoryLimitMb: core.getInput("memory-limit-mb"),
    heapMb: core.getInput("heap-mb"),
    keepRunDir: core.getInput("keep-run-dir") === "true",
    noSandbox: core.getInput("no-sandbox") === "true",
  });
  core.setOutput("status", result.status);
  core.setOutput("val-bpb", result.val_bpb === null ? "" : String(result.val_bpb));
  core.setOutput("addon-key", addonKey);
  core.info(`timings (s since the action started): ${JSON.stringify(timings)}`);
  for (const warning of result.warnings ?? []) core.warning(warning);
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(formatJobSummary(result)).write();
  if (result.status !== "ok") core.setFailed(`The experiment ended with status \`${result.status}\`: ${result.reason ?? "see result.json"}`);
} catch (error) {
  core.setFailed(`The runner failed: ${(error as Error).message}`);
}
