import type { Experiment, Outcome } from "./experiment.ts";
import { pooledSigma } from "./judge.ts";

/** One past experiment as the agent sees it. */
export interface LedgerEntry {
  n: number;
  title: string;
  hypothesis: string;
  fingerprint: string | null;
  /** Mean val_bpb of its runs, when it has any. */
  valBpb: number | null;
  /** Against its parent; negative is better. */
  delta: number | null;
  outcome: Outcome | "running";
  /** The status and log excerpt of a crash. */
  crash: string | null;
}

/** One successful run; `selected` when a passed test chose it (it won its experiment the merge). */
interface Run {
  valBpb: number;
  selected: boolean;
}

/** Counts for the dashboard. */
export interface LedgerCounts {
  kept: number;
  discarded: number;
  crashed: number;
  inconclusive: number;
  running: number;
}

/**
 * Every experiment of a research branch, with what can be derived from them: the runs of
 * each tree (code), the noise, the entries the agent reads, counts and the leaderboard.
 */
export class Ledger {
  readonly experiments: readonly Experiment[];

  constructor(
    experiments: readonly Experiment[],
    /** Runs from earlier noise epochs are ignored for values and noise. */
    readonly epoch: number,
  ) {
    this.experiments = [...experiments].sort((a, b) => a.n - b.n);
  }

  /** val_bpb of every successful run of the code with this tree, in the current epoch, oldest first. */
  runsOf(tree: string): number[] {
    return (this.#groups().get(tree) ?? []).map((run) => run.valBpb);
  }

  /**
   * The runs of this code that no test selected: baselines and confirmation runs, without
   * the test runs that won an experiment its merge (those are biased low by the selection).
   */
  freshRunsOf(tree: string): number[] {
    return (this.#groups().get(tree) ?? []).filter((run) => !run.selected).map((run) => run.valBpb);
  }

  /** Pooled run-to-run noise of the current epoch; null until some code has two runs. */
  sigma(): number | null {
    return pooledSigma(this.#values());
  }

  /** Degrees of freedom of that noise estimate: runs minus distinct codes, over codes with two runs or more. */
  noiseFreedom(): number {
    let freedom = 0;
    for (const runs of this.#values()) freedom += Math.max(0, runs.length - 1);
    return freedom;
  }

  *#values(): Iterable<number[]> {
    for (const runs of this.#groups().values()) yield runs.map((run) => run.valBpb);
  }

  #cache: Map<string, Run[]> | null = null;

  #groups(): Map<string, Run[]> {
    if (this.#cache !== null) return this.#cache;
    const groups = new Map<string, Run[]>();
    const seen = new Set<string>();
    for (const experiment of this.experiments) {
      // A passed test's runs are the first `testRuns` runs of the code it judged.
      const passed = experiment.decision?.outcome === "improved" ? experiment.decision : null;
      let tested = 0;
      for (const m of experiment.measurements) {
        if (m.epoch !== this.epoch || m.valBpb === null || seen.has(m.sha)) continue;
        seen.add(m.sha);
        const selected = passed !== null && passed.tree === m.tree && tested++ < passed.testRuns;
        const runs = groups.get(m.tree) ?? [];
        runs.push({ valBpb: m.valBpb, selected });
        groups.set(m.tree, runs);
      }
    }
    this.#cache = groups;
    return groups;
  }

  /** Experiments (not baselines), oldest first, as the agent reads them. */
  entries(): LedgerEntry[] {
    return this.experiments
      .filter((e) => e.kind === "experiment")
      .map((e) => {
        const runs = e.measurements.flatMap((m) => (m.valBpb === null ? [] : [m.valBpb]));
        const crashed = e.measurements.filter((m) => m.status !== "ok").at(-1);
        return {
          n: e.n,
          title: e.title,
          hypothesis: e.hypothesis,
          fingerprint: e.fingerprint,
          valBpb: e.decision?.candidate ?? (runs.length > 0 ? runs.reduce((a, b) => a + b) / runs.length : null),
          delta: e.decision?.delta ?? null,
          outcome: e.outcome ?? "running",
          crash: crashed ? `${crashed.status}: ${crashed.reason ?? crashed.crashExcerpt ?? ""}`.trim() : null,
        };
      });
  }

  counts(): LedgerCounts {
    const counts: LedgerCounts = { kept: 0, discarded: 0, crashed: 0, inconclusive: 0, running: 0 };
    for (const e of this.experiments) {
      if (e.kind !== "experiment") continue;
      if (e.state === "open") counts.running++;
      else if (e.outcome === "improved" && e.state === "merged") counts.kept++;
      else if (e.outcome === "crashed") counts.crashed++;
      else if (e.outcome === "inconclusive") counts.inconclusive++;
      else counts.discarded++;
    }
    return counts;
  }

  /** Merged experiments, best val_bpb first. */
  leaderboard(): Experiment[] {
    return this.experiments
      .filter((e) => e.state === "merged" && e.decision?.candidate != null)
      .sort((a, b) => a.decision!.candidate! - b.decision!.candidate!);
  }
}
