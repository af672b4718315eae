import type { ResearchFiles } from "../research/agent.ts";
import type { Commit, Experiment, Outcome } from "../research/experiment.ts";
import type { Decision } from "../research/judge.ts";
import type { ResearchState } from "../research/plan.ts";
import type { ResearchConfig } from "../research/research-config.ts";
import type { ExperimentSpec, Forge } from "../research/research-step.ts";
import { decisionHeadline, decisionRule } from "../research/render-decision.ts";
import { EDITABLE_FILE } from "../runner/guards/diff.ts";
import { DEFAULT_SEED, SEED_TRAILER } from "../runner/result.ts";
import { renderExperimentBody } from "./experiment-body.ts";
import { LABELS, outcomeLabel } from "./labels.ts";
import { statusOf, type Octokit, type RepoRef } from "./octokit.ts";
import type { Outbox } from "./outbox.ts";
import { publishOutbox } from "./publish-outbox.ts";
import { renderCheck } from "./render-check.ts";
import { snapshotOf, type RepoStore } from "./repo-store.ts";

/** What a GitHub forge works with during one event. */
export interface GitHubForgeContext {
  octokit: Octokit;
  repo: RepoRef;
  /** The research branch. */
  branch: string;
  config: ResearchConfig;
  store: RepoStore;
  epoch: number;
  /** The run name in branch names: the night's date. */
  run: string;
  now: Date;
  /** This step's number, for the outboxes it writes. */
  step: number;
}

/** What a write of a marker shows once it is made. */
interface Showing {
  /** What happens next, for the checks of the runs read since the previous write. */
  next: string;
  /** The decision those checks report; null when the step judged nothing. */
  decision: Decision | null;
  comment?: string;
  deleteBranch?: boolean;
  merging?: boolean;
}

const short = (sha: string) => sha.slice(0, 7);
const ON_HOLD = "On hold: the app will neither merge nor close it.";
const withSeed = (message: string, seed: number) => `${message}\n\n${SEED_TRAILER}: ${seed}`;

/**
 * The research loop's forge on GitHub: an experiment is a pull request from
 * `autoresearch/<run>/<n>` into the research branch, its state a marker in the body,
 * its outcome a label. Every write goes through the store, so the next event sees it
 * without listing again. What a write reports (checks, a comment) goes out after it,
 * through the marker's outbox.
 */
export class GitHubForge implements Forge {
  /** How many outboxes this step wrote. */
  outboxes = 0;

  constructor(readonly context: GitHubForgeContext) {}

  async load(): Promise<ResearchState> {
    const { store, epoch } = this.context;
    return { head: store.head, experiments: store.experiments(), epoch };
  }

  readFiles(commit: Commit): Promise<ResearchFiles> {
    return this.context.store.readFiles(this.context.octokit, commit.tree);
  }

  async start(spec: ExperimentSpec): Promise<void> {
    const { octokit, repo, store, config, branch: base, run, now } = this.context;
    const n = store.nextN();
    const branch = `autoresearch/${run}/${n}`;
    // A baseline is an empty commit; an experiment commits its train.ts through the contents API.
    let head: Commit;
    if (spec.train === null) {
      const { data } = await octokit.rest.git.createCommit({ ...repo, message: withSeed(spec.title, spec.seed), tree: spec.parent.tree, parents: [spec.parent.sha] });
      await this.#createBranch(branch, data.sha);
      head = { sha: data.sha, tree: spec.parent.tree };
    } else {
      await this.#createBranch(branch, spec.parent.sha);
      const { data } = await octokit.rest.repos.createOrUpdateFileContents({
        ...repo,
        branch,
        path: EDITABLE_FILE,
        message: withSeed(spec.title, spec.seed),
        content: Buffer.from(spec.train).toString("base64"),
        sha: (await store.listing(octokit, spec.parent.tree))[EDITABLE_FILE],
      });
      head = { sha: data.commit.sha!, tree: data.commit.tree!.sha! };
    }
    const experiment: Experiment = {
      branch, n, kind: spec.kind, title: spec.title, hypothesis: spec.hypothesis, fingerprint: spec.fingerprint,
      parent: spec.parent, head, seed: spec.seed, measurements: [], state: "open", held: false,
      outcome: null, decision: null, agent: spec.agent, tokens: spec.tokens, createdAt: now.toISOString(), commands: [],
    };
    const title = spec.kind === "baseline" ? spec.title : `Experiment ${n}: ${spec.title}`;
    const body = renderExperimentBody(experiment, base);
    const pull = await octokit.rest.pulls.create({ ...repo, base, head: branch, title, body }).then(
      (response) => response.data,
      async (error: unknown) => {
        if (statusOf(error) !== 422) throw error;
        // Opened by a step that failed before labelling it, so the listing missed it: take it over.
        const { data: open } = await octokit.rest.pulls.list({ ...repo, head: `${repo.owner}:${branch}`, state: "open" });
        if (open.length === 0) throw error;
        return (await octokit.rest.pulls.update({ ...repo, pull_number: open[0]!.number, title, body })).data;
      },
    );
    const labels = [LABELS.app, ...(spec.kind === "baseline" ? [LABELS.baseline] : config.labels)];
    const { data: added } = await octokit.rest.issues.addLabels({ ...repo, issue_number: pull.number, labels });
    store.record({ ...snapshotOf(pull), labels: added.map((l) => l.name) });
  }

  /** Points a new branch at `sha`; a branch left by a step that failed while starting this run is moved. */
  async #createBranch(branch: string, sha: string): Promise<void> {
    const { octokit, repo } = this.context;
    await octokit.rest.git.createRef({ ...repo, ref: `refs/heads/${branch}`, sha }).catch(async (error: unknown) => {
      if (statusOf(error) !== 422) throw error;
      await octokit.rest.git.updateRef({ ...repo, ref: `heads/${branch}`, sha, force: true });
    });
  }

  async rerun(experiment: Experiment, decision: Decision | null, seed: number): Promise<void> {
    const { octokit, repo } = this.context;
    const message = withSeed(`Re-run ${experiment.title} with seed ${seed}`, seed);
    const { data: commit } = await octokit.rest.git.createCommit({ ...repo, message, tree: experiment.head.tree, parents: [experiment.head.sha] });
    // Forced: a step that failed after moving the branch left a commit its marker never named.
    await octokit.rest.git.updateRef({ ...repo, ref: `heads/${experiment.branch}`, sha: commit.sha, force: true });
    await this.save({ ...experiment, decision, seed, head: { sha: commit.sha, tree: experiment.head.tree } }, [], { next: `Re-running with seed ${seed}.`, decision });
  }

  async rebase(experiment: Experiment, decision: Decision | null, onto: Commit): Promise<void> {
    const { octokit, repo, branch } = this.context;
    const message = withSeed(`Update ${experiment.branch} onto ${short(onto.sha)} of ${branch}`, DEFAULT_SEED);
    const response = await octokit.rest.repos
      .merge({ ...repo, base: experiment.branch, head: onto.sha, commit_message: message })
      .catch((error: unknown) => {
        if (statusOf(error) === 409) return null;
        throw error;
      });
    if (response === null) {
      await this.#finish(experiment, "discarded", decision, `It improved on its parent but conflicts with \`${branch}\` at ${short(onto.sha)}, so it was not kept.`);
      return;
    }
    // 201: a merge commit to measure. 204: the branch already contains the new head, so its run
    // stands, unless a step that failed made that merge commit and never recorded it.
    const head = response.status === 201 ? { sha: response.data.sha, tree: response.data.commit.tree.sha } : await this.#branchHead(experiment.branch);
    const showing = { next: "The research branch has moved on since this run started: updated onto its new head and measuring again.", decision };
    if (head.sha === experiment.head.sha) await this.save({ ...experiment, decision, parent: onto }, [], showing);
    else await this.save({ ...experiment, decision, parent: onto, head, seed: DEFAULT_SEED }, [], showing);
  }

  async #branchHead(branch: string): Promise<Commit> {
    const { data } = await this.context.octokit.rest.repos.getBranch({ ...this.context.repo, branch });
    return { sha: data.commit.sha, tree: data.commit.commit.tree.sha };
  }

  async merge(experiment: Experiment, decision: Decision): Promise<Commit> {
    const { octokit, repo, store, branch } = this.context;
    // Only code measured on the head may land: a person may have pushed since the last sync.
    const current = await store.readHead(octokit, branch);
    if (current.sha !== experiment.parent.sha) return current;
    const number = store.numberOf(experiment.branch);
    const metric = `val_bpb ${decision.candidate!.toFixed(6)} (${decision.delta!.toFixed(6)} vs ${decision.parent!.toFixed(6)})`;
    // Recorded first: if the merge goes through and this step fails before recording it, the next step does.
    await this.save({ ...experiment, decision }, [], { next: `Merging into \`${branch}\`.`, decision, merging: true });
    const merged = await octokit.rest.pulls
      .merge({
        ...repo,
        pull_number: number,
        merge_method: "squash",
        sha: experiment.head.sha,
        commit_title: `${experiment.title}: ${metric} (#${number})`,
        commit_message: [
          experiment.hypothesis,
          "",
          `${metric}; ${decisionRule(decision)}`,
          `Autoresearch-Experiment: ${experiment.n}`,
        ].join("\n"),
      })
      .catch((error: unknown) => {
        if ([405, 409, 422].includes(statusOf(error) as number)) return error as Error;
        throw error;
      });
    if (merged instanceof Error) {
      // Branch protection or a concurrent change: leave it to a human rather than retrying forever.
      const comment = `This improved val_bpb (${metric}) but could not be merged: ${merged.message}. It is on hold until someone merges or discards it.`;
      await this.save({ ...experiment, decision }, [LABELS.hold], { next: ON_HOLD, decision, comment });
      return store.head;
    }
    await this.#merged({ ...experiment, decision, state: "merged" });
    store.head = { sha: merged.data.sha, tree: experiment.head.tree };
    return store.head;
  }

  /** Records a merge. The comment names no commit, so that a later step can write it as well. */
  async #merged(experiment: Experiment): Promise<void> {
    await this.#finish(experiment, "improved", experiment.decision, `Merged into \`${this.context.branch}\`: ${decisionHeadline(experiment.decision!)}.`);
  }

  async close(experiment: Experiment, outcome: Outcome, decision: Decision | null): Promise<void> {
    const note = decision ? `Closed: ${decisionHeadline(decision)}.` : `Closed: ${outcome}.`;
    await this.#finish({ ...experiment, state: "closed" }, outcome, decision, note);
  }

  /** Records the outcome: body, state and label in one write, then a comment, and deletes the branch unless it is kept. */
  async #finish(experiment: Experiment, outcome: Outcome, decision: Decision | null, comment: string): Promise<void> {
    const state = experiment.state === "merged" ? "merged" : "closed";
    const baseline = experiment.kind === "baseline";
    const next = outcome === "measured" ? "Recorded as a baseline run." : outcome === "improved" ? `Merged into \`${this.context.branch}\`.` : `Closed as ${outcome}.`;
    await this.save({ ...experiment, state, outcome, decision }, baseline ? [] : [outcomeLabel(outcome)], {
      next,
      decision,
      ...(baseline ? {} : { comment: `${comment} The check \`autoresearch/val_bpb\` has the numbers and the rule.` }),
      deleteBranch: baseline || !this.context.config.keepBranches,
    });
  }

  /**
   * Writes an experiment's marker, closes its pull request when its state says closed
   * and GitHub still has it open, and adds labels, all in one request; the marker's outbox
   * holds the checks of the runs read since the last write and what `showing` adds, which
   * go out next.
   */
  async save(experiment: Experiment, labels: string[], showing: Showing): Promise<void> {
    const { octokit, repo, store, branch, step, now } = this.context;
    const number = store.numberOf(experiment.branch);
    const current = store.issues.get(number)!;
    const closing = experiment.state === "closed" && current.state === "open";
    const checks = (store.unchecked.get(experiment.branch) ?? []).map((run) => ({
      sha: run.measurement.sha,
      ...renderCheck(experiment, run.measurement, showing.decision, run.result, showing.next),
    }));
    const { comment = null, deleteBranch = false, merging = false } = showing;
    const outbox: Outbox | undefined = checks.length > 0 || comment !== null || deleteBranch || merging ? { step, checks, comment, deleteBranch, merging } : undefined;
    const { data } = await octokit.rest.issues.update({
      ...repo,
      issue_number: number,
      body: renderExperimentBody(experiment, branch, outbox),
      ...(closing ? { state: "closed" as const } : {}),
      ...(labels.length > 0 ? { labels: [...new Set([...current.labels, ...labels])] } : {}),
    });
    store.unsaved.delete(experiment.branch);
    store.unchecked.delete(experiment.branch);
    store.record({ ...snapshotOf(data), merged: current.merged || experiment.state === "merged" });
    if (!outbox) return;
    this.outboxes++;
    await publishOutbox({ octokit, repo, number, branch: experiment.branch, now }, outbox, false);
  }

  /** Writes the experiments that changed in memory and were not written by an action. */
  async flush(): Promise<void> {
    for (const experiment of [...this.context.store.unsaved.values()]) {
      const next = experiment.held ? ON_HOLD : "Waiting for its parent's val_bpb (a baseline run) before judging.";
      await this.save(experiment, [], { next, decision: null });
    }
  }

  /** Finishes the outbox a failed step left: shows what it did not, and records a merge that went through. */
  async recover(experiment: Experiment, outbox: Outbox): Promise<void> {
    const { octokit, repo, store, now } = this.context;
    await publishOutbox({ octokit, repo, number: store.numberOf(experiment.branch), branch: experiment.branch, now }, outbox, true);
    if (outbox.merging && experiment.state === "merged") await this.#merged(experiment);
  }
}
