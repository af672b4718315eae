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
  /** Notes on the dashboard what could not be shown (a comment on a locked pull request). */
  note: (text: string) => void;
}

/**
 * Creates an outbox's checks, posts its comment and deletes the branch. With `verify`, for an
 * outbox a failed step left, it first looks for what that step did show, to show nothing twice.
 * A comment GitHub refuses (the pull request is locked) is noted instead: the check has it all.
 */
export async function publishOutbox(target: OutboxTarget, outbox: Outbox, verify: boolean): Promise<void> {
  const { octokit, repo, number, branch, now } = target;
  for (const check of outbox.checks) {
    if (verify) {
      const { data } = await octokit.rest.checks.listForRef({ ...repo, ref: check.sha, check_name: CHECK_NAME, filter: "all" });
      // The same check, not an earlier one of the same commit (a neutral one before its success, say).
      if (data.check_runs.some((run) => run.conclusion === check.conclusion && run.output.title === check.title)) continue;
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
    if (!posted) {
      await octokit.rest.issues.createComment({ ...repo, issue_number: number, body: comment }).catch((error: unknown) => {
        if (statusOf(error) !== 403) throw error;
        target.note(`#${number} is locked, so its outcome was not commented there; its check \`${CHECK_NAME}\` has it.`);
      });
    }
  }
  if (outbox.deleteBranch) {
    await octokit.rest.git.deleteRef({ ...repo, ref: `heads/${branch}` }).catch((error: unknown) => {
      // Already gone (deleted by a person, by GitHub on merge, or by the step that failed): nothing to do.
      if (statusOf(error) !== 404 && statusOf(error) !== 422) throw error;
    });
  }
}
