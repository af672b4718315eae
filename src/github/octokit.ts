import type { ProbotOctokit } from "probot";

/** The authenticated client of an installation, with Probot's throttling, retry and pagination. */
export type Octokit = InstanceType<typeof ProbotOctokit>;

/** A repository, as REST parameters. */
export interface RepoRef {
  owner: string;
  repo: string;
}

/** The HTTP status of a failed request, if it is one. */
export const statusOf = (error: unknown) => (error as { status?: unknown })?.status;
