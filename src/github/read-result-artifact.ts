import { parseResult, type Result } from "../runner/result.ts";
import type { Octokit, RepoRef } from "./octokit.ts";
import { readZip } from "./read-zip.ts";

/** The artifact the experiment workflow uploads: `result.json` and `train.log`. */
export const RESULT_ARTIFACT = "autoresearch-result";

/**
 * Downloads the result artifact of a workflow run and validates its `result.json`.
 *
 * @returns the result, or why there is none (no artifact, no file, invalid JSON), for the crash record.
 */
export async function readResultArtifact(
  octokit: Octokit,
  repo: RepoRef,
  runId: number,
): Promise<{ result: Result } | { error: string }> {
  const { data } = await octokit.rest.actions.listWorkflowRunArtifacts({ ...repo, run_id: runId, name: RESULT_ARTIFACT });
  const artifact = data.artifacts.find((a) => a.name === RESULT_ARTIFACT && !a.expired);
  if (!artifact) return { error: `the workflow run uploaded no \`${RESULT_ARTIFACT}\` artifact` };
  const download = await octokit.rest.actions.downloadArtifact({ ...repo, artifact_id: artifact.id, archive_format: "zip" });
  const json = readZip(new Uint8Array(download.data as ArrayBuffer)).get("result.json");
  if (!json) return { error: `the \`${RESULT_ARTIFACT}\` artifact has no result.json` };
  try {
    return { result: parseResult(json.toString("utf8")) };
  } catch (error) {
    return { error: `result.json is invalid: ${(error as Error).message}` };
  }
}
