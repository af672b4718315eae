import type { Result, ResultStatus } from "../runner/result.ts";
import type { Decision } from "./judge.ts";

/** A commit of the research branch (or of an experiment branch) and its tree. */
export interface Commit {
  sha: string;
  /** The tree sha identifies the code that was measured, whatever commit carries it. */
  tree: string;
}

/** How an experiment ended. `measured` ends a baseline run. */
export type Outcome = "improved" | "regressed" | "crashed" | "inconclusive" | "discarded" | "measured";

/** One run of one commit, as the runner reported it. */
export interface Measurement {
  sha: string;
  tree: string;
  seed: number;
  /** The noise epoch the run belongs to; a re-baseline starts a new one. */
  epoch: number;
  status: ResultStatus;
  valBpb: number | null;
  peakVramMb: number;
  trainingSeconds: number;
  numSteps: number;
  crashExcerpt: string | null;
  reason: string | null;
  /**
   * The share of the CPUs the run got while it trained, under the CPU budget clock (see
   * result.json's `cpu_share`); null under the wall clock, absent from older records.
   */
  cpuShare?: number | null;
}

/**
 * One experiment (or baseline run) and everything known about it. A forge stores it
 * (on GitHub: a pull request with a hidden marker) and rebuilds it after a restart.
 */
export interface Experiment {
  /** The forge's name for it: the branch `autoresearch/<run>/<n>`. */
  branch: string;
  /** Sequence number, unique in the repository. */
  n: number;
  kind: "experiment" | "baseline";
  title: string;
  hypothesis: string;
  /** Identifies the change, to refuse duplicates; null for baselines. */
  fingerprint: string | null;
  /** The research-branch commit it is measured against. */
  parent: Commit;
  /** The commit of its branch that is (to be) measured next. */
  head: Commit;
  /** The seed of the run of `head`. */
  seed: number;
  measurements: Measurement[];
  state: "open" | "merged" | "closed";
  /** Put on hold by a human: the loop neither merges nor closes it. */
  held: boolean;
  outcome: Outcome | null;
  decision: Decision | null;
  /** Who proposed it: `openai:<model>`, `mutation:seed=<n>`, `baseline`. */
  agent: string;
  /** LLM tokens the proposal cost. */
  tokens: number;
  /** ISO time it was started. */
  createdAt: string;
  /** Ids of comment commands already applied, so a redelivered command is not applied twice. */
  commands: number[];
}

/** The measurement a runner result makes for the given commit and noise epoch. */
export function measurementFromResult(result: Result, commit: Commit, epoch: number): Measurement {
  return {
    sha: commit.sha,
    tree: commit.tree,
    seed: result.seed,
    epoch,
    status: result.status,
    valBpb: result.val_bpb,
    peakVramMb: result.peak_vram_mb,
    trainingSeconds: result.training_seconds,
    numSteps: result.num_steps,
    crashExcerpt: result.crash_excerpt,
    reason: result.reason,
    cpuShare: result.cpu_share ?? null,
  };
}

/** The measurement of the experiment's current head, if its run has reported. */
export function latestMeasurement(experiment: Experiment): Measurement | undefined {
  return experiment.measurements.filter((m) => m.sha === experiment.head.sha).at(-1);
}
