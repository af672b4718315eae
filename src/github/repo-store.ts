import { RESEARCH_FILES, type ResearchFiles } from "../research/agent.ts";
import type { Commit, Experiment, Measurement } from "../research/experiment.ts";
import type { Result } from "../runner/result.ts";
import { experimentFromIssue, outboxFromIssue, type IssueSnapshot } from "./experiment-body.ts";
import { LABELS } from "./labels.ts";
import { readMarker } from "./marker.ts";
import type { Octokit, RepoRef } from "./octokit.ts";
import type { Outbox } from "./outbox.ts";

/** An issue or a pull request as the REST API returns it, reduced to what the app reads. */
interface IssueLike {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  labels: Array<string | { name?: string }>;
  updated_at: string;
  merged_at?: string | null;
  pull_request?: { merged_at?: string | null };
  head?: unknown;
}

/** Reduces an issue (from the issues API) or a pull request (from the pulls API) to a snapshot. */
export function snapshotOf(item: IssueLike): IssueSnapshot {
  const isPullRequest = item.pull_request !== undefined || item.head !== undefined;
  return {
    number: item.number,
    title: item.title,
    body: item.body ?? "",
    state: item.state === "open" ? "open" : "closed",
    labels: item.labels.map((l) => (typeof l === "string" ? l : (l.name ?? ""))),
    isPullRequest,
    merged: Boolean(item.merged_at ?? item.pull_request?.merged_at),
    updatedAt: item.updated_at,
  };
}

/** A run the app read and has not yet written with its check, and its result, which the check shows. */
export interface ReadRun {
  measurement: Measurement;
  result: Result | null;
}

/**
 * What the app knows of one repository, rebuilt from GitHub alone: every issue and pull
 * request labelled `autoresearch` (experiments carry their state in a hidden marker, the
 * dashboard its own), the research branch head, and git objects by sha (immutable, so
 * cached for good). After the first sync, a sync lists only what changed since.
 */
export class RepoStore {
  readonly issues = new Map<number, IssueSnapshot>();
  /** Experiments changed in memory (a new measurement) and not yet written back. */
  readonly unsaved = new Map<string, Experiment>();
  /** The runs read into those changes, by experiment branch: the next write of each puts their checks in its outbox. */
  readonly unchecked = new Map<string, ReadRun[]>();
  head: Commit = { sha: "", tree: "" };
  /** Whether the store has listed the repository at least once. */
  synced = false;
  #since: string | undefined;
  readonly #objects = new Map<string, string>();

  constructor(readonly repo: RepoRef) {}

  /** Lists the issues changed since the last sync (all of them the first time) and reads the branch head. */
  async sync(octokit: Octokit, branch: string): Promise<void> {
    const items = await octokit.paginate(octokit.rest.issues.listForRepo, {
      ...this.repo,
      labels: LABELS.app,
      state: "all",
      sort: "updated",
      direction: "asc",
      per_page: 100,
      ...(this.#since ? { since: this.#since } : {}),
    });
    for (const item of items) this.record(snapshotOf(item as IssueLike));
    await this.readHead(octokit, branch);
    this.synced = true;
  }

  /** Reads the head of the research branch. */
  async readHead(octokit: Octokit, branch: string): Promise<Commit> {
    const { data } = await octokit.rest.repos.getBranch({ ...this.repo, branch });
    this.head = { sha: data.commit.sha, tree: data.commit.commit.tree.sha };
    return this.head;
  }

  /**
   * After a failed step: drops what it changed in memory and did not write, since it may
   * have written part of it; GitHub has the truth, which the next sync lists.
   */
  forget(): void {
    this.unsaved.clear();
    this.unchecked.clear();
    this.synced = false;
  }

  /** Keeps a snapshot the app read or wrote. */
  record(snapshot: IssueSnapshot): void {
    this.issues.set(snapshot.number, snapshot);
    if (this.#since === undefined || snapshot.updatedAt > this.#since) this.#since = snapshot.updatedAt;
  }

  /** Every experiment, with unsaved changes applied, oldest first. */
  experiments(): Experiment[] {
    const found: Experiment[] = [];
    for (const issue of this.issues.values()) {
      const experiment = experimentFromIssue(issue);
      if (experiment) found.push(this.unsaved.get(experiment.branch) ?? experiment);
    }
    return found.sort((a, b) => a.n - b.n);
  }

  /** The outboxes the last writes of experiments' markers left. */
  outboxes(): Array<{ experiment: Experiment; outbox: Outbox }> {
    const found: Array<{ experiment: Experiment; outbox: Outbox }> = [];
    for (const issue of this.issues.values()) {
      const outbox = outboxFromIssue(issue);
      if (outbox) found.push({ experiment: experimentFromIssue(issue)!, outbox });
    }
    return found;
  }

  /** The experiment on a branch and the number of its pull request. */
  find(branch: string): { experiment: Experiment; number: number } | undefined {
    for (const issue of this.issues.values()) {
      const experiment = experimentFromIssue(issue);
      if (experiment?.branch === branch) return { experiment: this.unsaved.get(branch) ?? experiment, number: issue.number };
    }
    return undefined;
  }

  /** The experiment of a pull request, by number. */
  experimentAt(number: number): Experiment | undefined {
    const issue = this.issues.get(number);
    const experiment = issue && experimentFromIssue(issue);
    return experiment ? (this.unsaved.get(experiment.branch) ?? experiment) : undefined;
  }

  /** The pull request number of an experiment. */
  numberOf(branch: string): number {
    const found = this.find(branch);
    if (!found) throw new Error(`Expected a pull request for \`${branch}\`, got none`);
    return found.number;
  }

  /** The dashboard issue: the oldest issue with the dashboard marker. */
  dashboard(): IssueSnapshot | undefined {
    return [...this.issues.values()]
      .filter((i) => !i.isPullRequest && readMarker("dashboard", i.body) !== null)
      .sort((a, b) => a.number - b.number)[0];
  }

  /** The next experiment number. */
  nextN(): number {
    return Math.max(0, ...this.experiments().map((e) => e.n)) + 1;
  }

  /** The blob shas of a tree's top-level files, listed once per tree. */
  async listing(octokit: Octokit, tree: string): Promise<Record<string, string>> {
    const listing = await this.#object(tree, async () => {
      const { data } = await octokit.rest.git.getTree({ ...this.repo, tree_sha: tree });
      return JSON.stringify(Object.fromEntries(data.tree.map((entry) => [entry.path, entry.sha])));
    });
    return JSON.parse(listing) as Record<string, string>;
  }

  /** The files the agent reads at a tree, through the tree listing and blobs (each fetched once). */
  async readFiles(octokit: Octokit, tree: string): Promise<ResearchFiles> {
    const shas = await this.listing(octokit, tree);
    const files = {} as ResearchFiles;
    for (const path of RESEARCH_FILES) {
      const sha = shas[path];
      // program.md may be missing; the agent then reads an empty file.
      files[path] = sha === undefined ? "" : await this.#object(sha, async () => {
        const { data } = await octokit.rest.git.getBlob({ ...this.repo, file_sha: sha });
        return Buffer.from(data.content, data.encoding === "base64" ? "base64" : "utf8").toString("utf8");
      });
    }
    return files;
  }

  async #object(sha: string, fetch: () => Promise<string>): Promise<string> {
    const cached = this.#objects.get(sha);
    if (cached !== undefined) return cached;
    const value = await fetch();
    this.#objects.set(sha, value);
    return value;
  }
}
