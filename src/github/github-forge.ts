import type { ResearchFiles } from "../research/agent.ts";
import type { Commit, Experiment, Outcome } from "../research/experiment.ts";
import type { Decision } from "../research/judge.ts";
import type { ResearchState } from "../research/plan.ts";
import type { ResearchConfig } from "../research/research-config.ts";
import type { ExperimentSpec, Forge } from "../research/research-step.ts";
import { decisionHeadline } from "../research/render-decision.ts";
import { EDITABLE_FILE } from "../runner/guards/diff.ts";
import { DEFAULT_SEED, SEED_TRAILER } from "../runner/result.ts";
import { renderExperimentBody } from "./experiment-body.ts";
import { LABELS, outcomeLabel } from "./labels.ts";
import { statusOf, type Octokit, type RepoRef } from "./octokit.ts";
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
}

const short = (sha: string) => sha.slice(0, 7);
const withSeed = (message: string, seed: number) => `${message}\n\n${SEED_TRAILER}: ${seed}`;

/**
 * The research loop's forge on GitHub: an experiment is a pull request from
 * `autoresearch/<run>/<n>` into the research branch, its state a marker in the body,
 * its outcome a label. Every write goes through the store, so the next event sees it
 * without listing again.
 */
export class GitHubForge implements Forge {
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
      await octokit.rest.git.createRef({ ...repo, ref: `refs/heads/${branch}`, sha: data.sha });
      head = { sha: data.sha, tree: spec.parent.tree };
    } else {
      await octokit.rest.git.createRef({ ...repo, ref: `refs/heads/${branch}`, sha: spec.parent.sha });
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
    const { data: pull } = await octokit.rest.pulls.create({
      ...repo, base, head: branch, title: spec.kind === "baseline" ? spec.title : `Experiment ${n}: ${spec.title}`, body: renderExperimentBody(experiment, base),
    });
    const labels = [LABELS.app, ...(spec.kind === "baseline" ? [LABELS.baseline] : config.labels)];
    const { data: added } = await octokit.rest.issues.addLabels({ ...repo, issue_number: pull.number, labels });
    store.record({ ...snapshotOf(pull), labels: added.map((l) => l.name) });
  }

  async rerun(experiment: Experiment, decision: Decision | null, seed: number): Promise<void> {
    const { octokit, repo } = this.context;
    const message = withSeed(`Re-run ${experiment.title} with seed ${seed}`, seed);
    const { data: commit } = await octokit.rest.git.createCommit({ ...repo, message, tree: experiment.head.tree, parents: [experiment.head.sha] });
    await octokit.rest.git.updateRef({ ...repo, ref: `heads/${experiment.branch}`, sha: commit.sha, force: false });
    await this.save({ ...experiment, decision, seed, head: { sha: commit.sha, tree: experiment.head.tree } });
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
    // 201: a merge commit to measure; 204: the branch already contains the new head, so its run stands.
    if (response.status === 201) {
      await this.save({ ...experiment, decision, parent: onto, head: { sha: response.data.sha, tree: response.data.commit.tree.sha }, seed: DEFAULT_SEED });
    } else {
      await this.save({ ...experiment, decision, parent: onto });
    }
  }

  async merge(experiment: Experiment, decision: Decision): Promise<Commit> {
    const { octokit, repo, store, branch } = this.context;
    // Only code measured on the head may land: a person may have pushed since the last sync.
    const current = await store.readHead(octokit, branch);
    if (current.sha !== experiment.parent.sha) return current;
    const number = store.numberOf(experiment.branch);
    const metric = `val_bpb ${decision.candidate!.toFixed(6)} (${decision.delta!.toFixed(6)} vs ${decision.parent!.toFixed(6)})`;
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
          `${metric}; ${decision.runs} run(s) against ${decision.parentRuns}, noise σ ${decision.sigma.toFixed(6)}, threshold ${decision.threshold!.toFixed(6)} (k = ${decision.k}).`,
          `Autoresearch-Experiment: ${experiment.n}`,
        ].join("\n"),
      })
      .catch((error: unknown) => {
        if ([405, 409, 422].includes(statusOf(error) as number)) return error as Error;
        throw error;
      });
    if (merged instanceof Error) {
      // Branch protection or a concurrent change: leave it to a human rather than retrying forever.
      const { data } = await octokit.rest.issues.addLabels({ ...repo, issue_number: number, labels: [LABELS.hold] });
      await octokit.rest.issues.createComment({ ...repo, issue_number: number, body: `This improved val_bpb (${metric}) but could not be merged: ${merged.message}. It is on hold until someone merges or discards it.` });
      store.record({ ...store.issues.get(number)!, labels: data.map((l) => l.name) });
      return store.head;
    }
    const head = { sha: merged.data.sha, tree: experiment.head.tree };
    await this.#finish({ ...experiment, state: "merged" }, "improved", decision, `Merged into \`${branch}\` as ${short(head.sha)}: ${decisionHeadline(decision)}.`);
    store.head = head;
    return head;
  }

  async close(experiment: Experiment, outcome: Outcome, decision: Decision | null): Promise<void> {
    const note = decision ? `Closed: ${decisionHeadline(decision)}.` : `Closed: ${outcome}.`;
    await this.#finish({ ...experiment, state: "closed" }, outcome, decision, note);
  }

  /** Records the outcome: body, state and label in one write, a comment, and the branch unless it is kept. */
  async #finish(experiment: Experiment, outcome: Outcome, decision: Decision | null, comment: string): Promise<void> {
    const { octokit, repo, config, store } = this.context;
    const state = experiment.state === "merged" ? "merged" : "closed";
    const baseline = experiment.kind === "baseline";
    await this.save({ ...experiment, state, outcome, decision }, baseline ? [] : [outcomeLabel(outcome)]);
    if (baseline) return this.#deleteBranch(experiment);
    const number = store.numberOf(experiment.branch);
    await octokit.rest.issues.createComment({ ...repo, issue_number: number, body: `${comment} The check \`autoresearch/val_bpb\` has the numbers and the rule.` });
    if (!config.keepBranches) await this.#deleteBranch(experiment);
  }

  async #deleteBranch(experiment: Experiment): Promise<void> {
    const { octokit, repo } = this.context;
    await octokit.rest.git.deleteRef({ ...repo, ref: `heads/${experiment.branch}` }).catch((error: unknown) => {
      // Already gone (deleted by a person, or by GitHub on merge): nothing to do.
      if (statusOf(error) !== 404 && statusOf(error) !== 422) throw error;
    });
  }

  /**
   * Writes an experiment's marker, closes its pull request when its state says closed
   * and GitHub still has it open, and adds labels, all in one request.
   */
  async save(experiment: Experiment, labels: string[] = []): Promise<void> {
    const { octokit, repo, store, branch } = this.context;
    const number = store.numberOf(experiment.branch);
    const current = store.issues.get(number)!;
    const closing = experiment.state === "closed" && current.state === "open";
    const { data } = await octokit.rest.issues.update({
      ...repo,
      issue_number: number,
      body: renderExperimentBody(experiment, branch),
      ...(closing ? { state: "closed" as const } : {}),
      ...(labels.length > 0 ? { labels: [...new Set([...current.labels, ...labels])] } : {}),
    });
    store.unsaved.delete(experiment.branch);
    store.record({ ...snapshotOf(data), merged: current.merged || experiment.state === "merged" });
  }

  /** Writes the experiments that changed in memory and were not written by an action. */
  async flush(): Promise<void> {
    for (const experiment of [...this.context.store.unsaved.values()]) await this.save(experiment);
  }
}
