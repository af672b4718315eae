import { statusOf, type Octokit, type RepoRef } from "./octokit.ts";
import type { Outbox } from "./outbox.ts";
import { CHECK_NAME } from "./render-check.ts";

/** Where an outbox goes: its experiment's pull request and branch. */
export interface OutboxTarget {
  octokit: Octokit;
  repo: RepoRef;
  number: number;
  branch: string;
  now: Date;
}

/**
 * Creates an outbox's checks, posts its comment and deletes the branch. With `verify`, for an
 * outbox a failed step left, it first looks for what that step did show, to show nothing twice.
 */
export async function publishOutbox(target: OutboxTarget, outbox: Outbox, verify: boolean): Promise<void> {
  const { octokit, repo, number, branch, now } = target;
  for (const check of outbox.checks) {
    if (verify) {
      const { data } = await octokit.rest.checks.listForRef({ ...repo, ref: check.sha, check_name: CHECK_NAME, filter: "all" });
      if (data.total_count > 0) continue;
    }
    await octokit.rest.checks.create({
      ...repo,
      name: CHECK_NAME,
      head_sha: check.sha,
      status: "completed",
      conclusion: check.conclusion,
      completed_at: now.toISOString(),
      output: { title: check.title, summary: check.summary },
    });
  }
  const comment = outbox.comment;
  if (comment !== null) {
    const posted = verify && (await octokit.paginate(octokit.rest.issues.listComments, { ...repo, issue_number: number, per_page: 100 })).some((c) => c.body === comment);
    if (!posted) await octokit.rest.issues.createComment({ ...repo, issue_number: number, body: comment });
  }
  if (outbox.deleteBranch) {
    await octokit.rest.git.deleteRef({ ...repo, ref: `heads/${branch}` }).catch((error: unknown) => {
      // Already gone (deleted by a person, by GitHub on merge, or by the step that failed): nothing to do.
      if (statusOf(error) !== 404 && statusOf(error) !== 422) throw error;
    });
  }
}
