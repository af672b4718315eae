import { nightStart, runName } from "../research/gate.ts";
import type { ResearchConfig } from "../research/research-config.ts";
import { noteIgnored, readDashboard } from "./dashboard.ts";
import { GitHubForge } from "./github-forge.ts";
import type { RepoStore } from "./repo-store.ts";
import type { Session, Target } from "./session.ts";

/** A session, and what its step needs to know of how it was opened. */
export interface OpenedSession {
  session: Session;
  /** The start of the research night the step belongs to. */
  night: Date;
  /** This step's number, for the outboxes it writes. */
  step: number;
  /** Whether a failed step's outboxes were finished. */
  recovered: boolean;
  /** Whether the store had to list everything again (a new process, or one whose last step failed). */
  recovering: boolean;
}

/**
 * Opens a session on the target's repository: brings the store up to date, reads the loop's
 * state from the dashboard, builds the forge, and finishes the outboxes failed steps left.
 *
 * @param fresh - no other process held the repository's lock since this one
 */
export async function openSession(target: Target, config: ResearchConfig, store: RepoStore, now: Date, fresh: boolean): Promise<OpenedSession> {
  const { octokit, repo } = target;
  const defaultBranch = target.defaultBranch ?? (await octokit.rest.repos.get({ ...repo })).data.default_branch;
  const branch = config.branch ?? defaultBranch;
  // A new process, or one whose last step failed, may have missed runs or left them unread.
  const recovering = !store.synced;
  if (target.sync !== false || recovering || !fresh) await store.sync(octokit, branch);

  const night = nightStart(now, config.hours);
  const state = readDashboard(store.dashboard()?.body);
  // Outboxes of steps that did not finish showing them; this step's number comes after theirs.
  const unfinished = store.outboxes().filter(({ outbox }) => outbox.step > state.published);
  const step = 1 + Math.max(state.published, ...unfinished.map(({ outbox }) => outbox.step));
  const note = (text: string) => noteIgnored(state, text);
  const forge = new GitHubForge({ octokit, repo, branch, config, store, epoch: state.epoch, run: runName(night, config.hours), now, step, note });
  for (const { experiment, outbox } of unfinished) await forge.recover(experiment, outbox);
  const session: Session = { octokit, repo, config, branch, store, state, forge, now };
  return { session, night, step, recovered: unfinished.length > 0, recovering };
}
