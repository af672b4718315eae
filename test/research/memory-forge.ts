import { createHash } from "node:crypto";
import type { ResearchFiles } from "../../src/research/agent.ts";
import type { Commit, Experiment, Outcome } from "../../src/research/experiment.ts";
import type { Decision } from "../../src/research/judge.ts";
import type { ResearchState } from "../../src/research/plan.ts";
import type { ExperimentSpec, Forge } from "../../src/research/research-step.ts";

const hash = (text: string) => createHash("sha1").update(text).digest("hex");

/**
 * A forge in memory: commits are content hashes, a tree is the files. It checks the
 * loop's promises as it goes: merges only onto the head they were measured on, never two
 * runs of one commit, never an action on a closed experiment.
 */
export class MemoryForge implements Forge {
  readonly trees = new Map<string, ResearchFiles>();
  readonly experiments: Experiment[] = [];
  head: Commit;
  epoch = 0;
  readonly log: string[] = [];
  #commits = 0;

  constructor(files: ResearchFiles) {
    this.head = this.#commit(files);
  }

  #commit(files: ResearchFiles): Commit {
    const tree = hash(JSON.stringify(files));
    this.trees.set(tree, files);
    return { sha: hash(`${tree}:${this.#commits++}`), tree };
  }

  #find(experiment: Experiment): Experiment {
    const found = this.experiments.find((e) => e.branch === experiment.branch);
    if (!found || found.state !== "open") throw new Error(`Expected an open experiment ${experiment.branch}, got ${found?.state}`);
    return found;
  }

  /** A copy, as a real forge reads its state afresh (written out field by field: structuredClone was most of bench:judge's time). */
  async load(): Promise<ResearchState> {
    const copy = (e: Experiment): Experiment => ({
      ...e, parent: { ...e.parent }, head: { ...e.head }, measurements: e.measurements.map((m) => ({ ...m })),
      decision: e.decision && { ...e.decision }, commands: [...e.commands],
    });
    return { head: { ...this.head }, experiments: this.experiments.map(copy), epoch: this.epoch };
  }

  async readFiles(commit: Commit): Promise<ResearchFiles> {
    return this.trees.get(commit.tree)!;
  }

  async start(spec: ExperimentSpec): Promise<void> {
    const files = this.trees.get(spec.parent.tree)!;
    const head = this.#commit(spec.train === null ? files : { ...files, "train.ts": spec.train });
    const n = this.experiments.length + 1;
    this.log.push(`start ${n} ${spec.kind}`);
    this.experiments.push({
      branch: `autoresearch/memory/${n}`, n, kind: spec.kind, title: spec.title, hypothesis: spec.hypothesis, fingerprint: spec.fingerprint,
      parent: spec.parent, head, seed: spec.seed, measurements: [], state: "open", held: false, outcome: null, decision: null,
      agent: spec.agent, tokens: spec.tokens, createdAt: new Date(0).toISOString(), commands: [],
    });
  }

  async rerun(experiment: Experiment, decision: Decision | null, seed: number): Promise<void> {
    const e = this.#find(experiment);
    this.log.push(`rerun ${e.n}`);
    Object.assign(e, { decision, seed, head: this.#commit(this.trees.get(e.head.tree)!) });
  }

  async rebase(experiment: Experiment, decision: Decision | null, onto: Commit): Promise<void> {
    const e = this.#find(experiment);
    this.log.push(`rebase ${e.n}`);
    // The change is the lines train.ts changed against its parent, replayed on the new head.
    const before = this.trees.get(e.parent.tree)!["train.ts"].split("\n");
    const after = this.trees.get(e.head.tree)!["train.ts"].split("\n");
    const target = this.trees.get(onto.tree)!;
    const lines = target["train.ts"].split("\n");
    for (let i = 0; i < after.length; i++) if (before[i] !== after[i]) lines[i] = after[i]!;
    Object.assign(e, { decision, parent: onto, head: this.#commit({ ...target, "train.ts": lines.join("\n") }), seed: 42 });
  }

  async merge(experiment: Experiment, decision: Decision): Promise<Commit> {
    const e = this.#find(experiment);
    if (e.parent.sha !== this.head.sha) throw new Error(`Expected ${e.branch} to be measured on the head ${this.head.sha}, got ${e.parent.sha}`);
    this.log.push(`merge ${e.n}`);
    this.head = this.#commit(this.trees.get(e.head.tree)!);
    Object.assign(e, { decision, state: "merged", outcome: "improved" });
    return this.head;
  }

  async close(experiment: Experiment, outcome: Outcome, decision: Decision | null): Promise<void> {
    const e = this.#find(experiment);
    this.log.push(`close ${e.n} ${outcome}`);
    Object.assign(e, { decision, state: "closed", outcome });
  }

  /** Runs every open experiment that waits for a measurement, with the given trainer. */
  train(valBpb: (files: ResearchFiles, seed: number) => number | null): number {
    const waiting = this.experiments.filter((e) => e.state === "open" && !e.measurements.some((m) => m.sha === e.head.sha));
    for (const e of waiting) {
      const value = valBpb(this.trees.get(e.head.tree)!, e.seed);
      e.measurements.push({
        sha: e.head.sha, tree: e.head.tree, seed: e.seed, epoch: this.epoch, status: value === null ? "crash" : "ok", valBpb: value,
        peakVramMb: 1, trainingSeconds: 300, numSteps: 10, crashExcerpt: value === null ? "boom" : null, reason: null,
      });
    }
    return waiting.length;
  }
}
