import type { ResearchConfig } from "../research/research-config.ts";
import type { DashboardState } from "./dashboard.ts";
import type { GitHubForge } from "./github-forge.ts";
import type { Octokit, RepoRef } from "./octokit.ts";
import type { RepoStore } from "./repo-store.ts";

/** Where one event applies: a repository, its client and how to read its config. */
export interface Target {
  octokit: Octokit;
  repo: RepoRef;
  /** Known from most payloads; read from the API otherwise. */
  defaultBranch?: string;
  readConfig: () => Promise<unknown>;
  /**
   * False for events the app's own runs cause (`workflow_run`): whatever people changed
   * since the last sync came with its own webhook (or the next sweep), so a warm cache is
   * current and the event costs no listing.
   */
  sync?: boolean;
  /** Look for finished runs whose webhooks were lost, as the first step after a restart or a failed step does. */
  sweep?: boolean;
}

/** One event's work on one repository, under that repository's lock. */
export interface Session {
  octokit: Octokit;
  repo: RepoRef;
  config: ResearchConfig;
  branch: string;
  store: RepoStore;
  state: DashboardState;
  forge: GitHubForge;
  now: Date;
}

/** A repository as the app's maps key it: `owner/name`. */
export const repoKey = (repo: RepoRef) => `${repo.owner}/${repo.repo}`;
