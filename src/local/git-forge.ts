import type { ResearchFiles } from "../research/agent.ts";
import { RESEARCH_FILES } from "../research/agent.ts";
import { latestMeasurement, type Commit, type Experiment, type Measurement, type Outcome } from "../research/experiment.ts";
import type { Decision } from "../research/judge.ts";
import type { ResearchState } from "../research/plan.ts";
import { replayChange } from "../research/replay-change.ts";
import type { ExperimentSpec, Forge } from "../research/research-step.ts";
import { EXPERIMENT_TRAILER, mergeMetric, squashMessage } from "../research/squash-message.ts";
import { EDITABLE_FILE } from "../runner/guards/diff.ts";
import { DEFAULT_SEED, SEED_TRAILER } from "../runner/result.ts";
import { commitTree, git, resolveRef, treeWithFile } from "./git.ts";
import { readState, writeState, type LocalState, type RefUpdate, type StoredState } from "./local-state.ts";
import { writeLedger } from "./write-ledger.ts";

/** Where a finished experiment's branch is kept, by how it ended: merged, closed (discarded whatever the outcome) or a baseline run. */
export const FINISHED_REFS = {
  merged: "refs/autoresearch/kept/",
  closed: "refs/autoresearch/discarded/",
  baseline: "refs/autoresearch/baselines/",
} as const;

const short = (sha: string) => sha.slice(0, 7);
const message = (title: string, body: string[], n: number, seed: number) =>
  [title, "", ...body, ...(body.length ? [""] : []), `${EXPERIMENT_TRAILER}: ${n}`, `${SEED_TRAILER}: ${seed}`].join("\n");

/** What a local forge is opened with. */
export interface GitForgeOptions {
  /** The research branch for a first run; later runs use the one the state names. */
  branch: string;
  /** The run name in branch names, e.g. the date. */
  run: string;
  /** The clock, for `createdAt`. */
  now?: () => Date;
}

/**
 * The research loop's forge on a local git repository:
 * - an experiment is a branch `autoresearch/<run>/<n>` with one commit that changes `train.ts`
 *   (an empty commit for a baseline run); a re-run adds an empty commit with the new seed in
 *   its `Autoresearch-Seed` trailer, an update onto a new research head one commit on top of it
 *   that replays the experiment's own change of `train.ts`;
 * - an improvement is squash-merged into the research branch with its metric in the message;
 * - a finished branch moves to `refs/autoresearch/kept/`, `discarded/` or `baselines/`, so
 *   nothing is lost and `git branch` lists only what is in flight;
 * - every experiment's record lives in `refs/autoresearch/state`, updated in the same ref
 *   transaction as the branches, so the repository is always consistent and a run can resume.
 * After each change it rewrites `results.tsv` and `ledger.jsonl`.
 */
export class GitForge implements Forge {
  readonly #now: () => Date;

  private constructor(
    /** The work repository. */
    readonly dir: string,
    /** The research branch. */
    readonly branch: string,
    readonly run: string,
    now: () => Date,
  ) {
    this.#now = now;
  }

  /** Opens the forge on `dir`; a first run records `options.branch` as the research branch. */
  static async open(dir: string, options: GitForgeOptions): Promise<GitForge> {
    const stored = await readState(dir);
    return new GitForge(dir, stored?.state.branch ?? options.branch, options.run, options.now ?? (() => new Date()));
  }

  async #stored(): Promise<StoredState> {
    return (await readState(this.dir)) ?? { state: { version: 1, branch: this.branch, epoch: 0, experiments: [] }, sha: null };
  }

  /** The research branch's head commit and its tree. */
  async head(): Promise<Commit> {
    const sha = await resolveRef(this.dir, `refs/heads/${this.branch}^{commit}`);
    if (sha === null) throw new Error(`Expected the research branch \`${this.branch}\` to exist in ${this.dir}, got no such branch`);
    return { sha, tree: await git(this.dir, ["rev-parse", `${sha}^{tree}`]) };
  }

  async load(): Promise<ResearchState> {
    const { state } = await this.#stored();
    return { head: await this.head(), experiments: state.experiments, epoch: state.epoch };
  }

  /** Every experiment, oldest first. */
  async experiments(): Promise<Experiment[]> {
    return (await this.#stored()).state.experiments;
  }

  /** Open experiments whose current head has not been measured yet: the runs to train next. */
  async waiting(): Promise<Experiment[]> {
    return (await this.experiments()).filter((e) => e.state === "open" && latestMeasurement(e) === undefined);
  }

  async readFiles(commit: Commit): Promise<ResearchFiles> {
    const files = {} as ResearchFiles;
    for (const path of RESEARCH_FILES) files[path] = await git(this.dir, ["show", `${commit.sha}:${path}`], undefined, true);
    return files;
  }

  async start(spec: ExperimentSpec): Promise<void> {
    const { state, sha } = await this.#stored();
    const n = Math.max(0, ...state.experiments.map((e) => e.n)) + 1;
    const branch = `autoresearch/${this.run}/${n}`;
    const tree = spec.train === null ? spec.parent.tree : await treeWithFile(this.dir, spec.parent.tree, EDITABLE_FILE, spec.train);
    const head = { sha: await commitTree(this.dir, tree, [spec.parent.sha], message(spec.title, [spec.hypothesis], n, spec.seed)), tree };
    const experiment: Experiment = {
      branch, n, kind: spec.kind, title: spec.title, hypothesis: spec.hypothesis, fingerprint: spec.fingerprint,
      parent: spec.parent, head, seed: spec.seed, measurements: [], state: "open", held: false, outcome: null, decision: null,
      agent: spec.agent, tokens: spec.tokens, createdAt: this.#now().toISOString(), commands: [],
    };
    state.experiments.push(experiment);
    await this.#save(state, sha, `start ${branch}: ${spec.title}`, [{ ref: `refs/heads/${branch}`, to: head.sha, from: null }]);
  }

  async rerun(experiment: Experiment, decision: Decision | null, seed: number): Promise<void> {
    const { state, sha } = await this.#stored();
    const e = this.#open(state, experiment);
    const head = { sha: await commitTree(this.dir, e.head.tree, [e.head.sha], message(`Re-run ${e.title} with seed ${seed}`, [], e.n, seed)), tree: e.head.tree };
    const from = e.head.sha;
    Object.assign(e, { decision, seed, head });
    await this.#save(state, sha, `rerun ${e.branch} with seed ${seed}`, [{ ref: `refs/heads/${e.branch}`, to: head.sha, from }]);
  }

  async rebase(experiment: Experiment, decision: Decision | null, onto: Commit): Promise<void> {
    const { state, sha } = await this.#stored();
    const e = this.#open(state, experiment);
    // Its own change alone, never a merge: what the research branch dropped must not come back with it.
    const [base, changed, target] = await Promise.all([e.parent.sha, e.head.sha, onto.sha].map((at) => git(this.dir, ["show", `${at}:${EDITABLE_FILE}`], undefined, true)));
    const replayed = replayChange(base!, changed!, target!);
    if (replayed === null || replayed === target) {
      Object.assign(e, { decision, state: "closed", outcome: "discarded" });
      const why = replayed === null ? `its change does not apply on ${this.branch} at ${short(onto.sha)}` : `${this.branch} at ${short(onto.sha)} already has its change`;
      return this.#save(state, sha, `discard ${e.branch}: ${why}`, this.#park(e));
    }
    const tree = await treeWithFile(this.dir, onto.tree, EDITABLE_FILE, replayed);
    const title = `Update ${e.branch} onto ${short(onto.sha)} of ${this.branch}`;
    const head = { sha: await commitTree(this.dir, tree, [onto.sha], message(title, [], e.n, DEFAULT_SEED)), tree };
    const from = e.head.sha;
    Object.assign(e, { decision, parent: onto, head, seed: DEFAULT_SEED });
    await this.#save(state, sha, `rebase ${e.branch} onto ${short(onto.sha)}`, [{ ref: `refs/heads/${e.branch}`, to: head.sha, from }]);
  }

  async merge(experiment: Experiment, decision: Decision): Promise<Commit> {
    const { state, sha } = await this.#stored();
    const e = this.#open(state, experiment);
    const before = await this.head();
    if (e.parent.sha !== before.sha) {
      throw new Error(`Expected ${e.branch} to be measured on the head of ${this.branch} (${short(before.sha)}), got it measured on ${short(e.parent.sha)}`);
    }
    const { title, body } = squashMessage(e, decision, e.branch);
    // The experiment's parent is the head, so its tree is the squash merge.
    const squash = await commitTree(this.dir, e.head.tree, [before.sha], `${title}\n\n${body}`);
    const refs = await this.#advanceResearchBranch(before.sha, squash);
    Object.assign(e, { decision, state: "merged", outcome: "improved" });
    await this.#save(state, sha, `merge ${e.branch} into ${this.branch} as ${short(squash)}: ${mergeMetric(decision)}`, [...refs, ...this.#park(e)]);
    return { sha: squash, tree: e.head.tree };
  }

  async close(experiment: Experiment, outcome: Outcome, decision: Decision | null): Promise<void> {
    const { state, sha } = await this.#stored();
    const e = this.#open(state, experiment);
    Object.assign(e, { decision, state: "closed", outcome });
    await this.#save(state, sha, `close ${e.branch}: ${outcome}`, this.#park(e));
  }

  /** Records a run of an experiment's current head, as the runner measured it. */
  async record(experiment: Experiment, measurement: Measurement): Promise<void> {
    const { state, sha } = await this.#stored();
    const e = this.#open(state, experiment);
    if (measurement.sha !== e.head.sha) throw new Error(`Expected a run of ${e.branch} at ${short(e.head.sha)}, got one of ${short(measurement.sha)}`);
    e.measurements.push(measurement);
    const value = measurement.valBpb === null ? measurement.status : `val_bpb ${measurement.valBpb.toFixed(6)}`;
    await this.#save(state, sha, `measure ${e.branch} at ${short(e.head.sha)} (seed ${measurement.seed}): ${value}`);
  }

  #open(state: LocalState, experiment: Experiment): Experiment {
    const found = state.experiments.find((e) => e.branch === experiment.branch);
    if (found?.state !== "open") throw new Error(`Expected ${experiment.branch} to be an open experiment, got ${found ? `a ${found.state} one` : "none"}`);
    return found;
  }

  async #save(state: LocalState, previous: string | null, summary: string, refs: RefUpdate[] = []): Promise<void> {
    await writeState(this.dir, state, previous, summary, refs);
    await writeLedger(this.dir, state.experiments);
  }

  /** Moves a finished experiment's branch out of `refs/heads/` to where finished ones are kept. */
  #park(e: Experiment): RefUpdate[] {
    const where = e.kind === "baseline" ? FINISHED_REFS.baseline : e.state === "merged" ? FINISHED_REFS.merged : FINISHED_REFS.closed;
    const name = e.branch.replace(/^autoresearch\//, "");
    return [
      { ref: `refs/heads/${e.branch}`, to: null, from: e.head.sha },
      { ref: `${where}${name}`, to: e.head.sha, from: null },
    ];
  }

  /**
   * Moves the research branch to `to`. When it is checked out, a fast-forward merge also
   * updates the working tree (and refuses to overwrite local changes); otherwise the move
   * joins the state transaction.
   */
  async #advanceResearchBranch(from: string, to: string): Promise<RefUpdate[]> {
    const checkedOut = await git(this.dir, ["symbolic-ref", "--quiet", "HEAD"]).catch(() => null);
    if (checkedOut !== `refs/heads/${this.branch}`) return [{ ref: `refs/heads/${this.branch}`, to, from }];
    await git(this.dir, ["merge", "--ff-only", "--quiet", to]);
    return [];
  }
}
