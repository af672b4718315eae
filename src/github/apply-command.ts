import { latestMeasurement } from "../research/experiment.ts";
import { nextSeed } from "../research/plan.ts";
import { noteIgnored, type Control } from "./dashboard.ts";
import { LABELS } from "./labels.ts";
import { statusOf, type Octokit, type RepoRef } from "./octokit.ts";
import type { Command } from "./parse-command.ts";
import type { Session } from "./session.ts";

/** Whether a person may give the app commands: write access or more. */
export async function canWrite(octokit: Octokit, repo: RepoRef, username: string): Promise<boolean> {
  const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username }).catch(() => ({ data: { permission: "none" } }));
  return data.permission === "admin" || data.permission === "write";
}

/** Pauses the loop in `login`'s name, or resumes it (null). */
function pause(s: Session, login: string | null): void {
  s.state.paused = login === null ? null : { by: login, at: s.now.toISOString() };
}

/** Applies a comment command; false when it does not apply to this issue or pull request. */
export async function applyCommand(s: Session, command: Command, number: number, commentId: number, login: string): Promise<boolean> {
  if (command === "pause" || command === "resume") {
    pause(s, command === "pause" ? login : null);
    return true;
  }
  const experiment = s.store.experimentAt(number);
  if (!experiment || experiment.state !== "open") return false;
  if (experiment.commands.includes(commentId)) return true;
  const marked = { ...experiment, commands: [...experiment.commands, commentId] };
  if (command === "hold") {
    const { data } = await s.octokit.rest.issues.addLabels({ ...s.repo, issue_number: number, labels: [LABELS.hold] });
    s.store.record({ ...s.store.issues.get(number)!, labels: data.map((l) => l.name) });
  } else if (command === "discard") {
    if (latestMeasurement(experiment) === undefined) await cancelRuns(s, experiment.head.sha);
    await s.forge.close(marked, "discarded", null);
  } else {
    if (latestMeasurement(experiment) === undefined) return false;
    await s.forge.rerun(marked, null, nextSeed(experiment.head.tree, await s.forge.load()));
  }
  return true;
}

/** Applies the dashboard's ticked controls; `seen` is the epoch the person saw, so a redelivered edit re-baselines once. */
export function applyControls(s: Session, controls: Control[], login: string, seen: number): void {
  for (const control of controls) {
    if (control === "pause" || control === "resume") pause(s, control === "pause" ? login : null);
    if (control === "rebaseline") s.state.epoch = Math.max(s.state.epoch, seen + 1);
  }
}

/** Acknowledges an applied command with a 👍. On a locked issue GitHub refuses it: the command stands, and the dashboard says so. */
export async function acknowledge(s: Session, number: number, commentId: number): Promise<void> {
  await s.octokit.rest.reactions.createForIssueComment({ ...s.repo, comment_id: commentId, content: "+1" }).catch((error: unknown) => {
    if (statusOf(error) !== 403) throw error;
    const where = number === s.store.dashboard()?.number ? "This dashboard" : `#${number}`;
    noteIgnored(s.state, `${where} is locked, so commands there are applied without the 👍 that acknowledges them.`);
  });
}

async function cancelRuns(s: Session, sha: string): Promise<void> {
  const { data } = await s.octokit.rest.actions.listWorkflowRunsForRepo({ ...s.repo, head_sha: sha, per_page: 10 });
  for (const run of data.workflow_runs) {
    if (run.status !== "completed") await s.octokit.rest.actions.cancelWorkflowRun({ ...s.repo, run_id: run.id });
  }
}
