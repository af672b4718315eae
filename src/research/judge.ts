/** What the judge concluded about one experiment. */
export interface Decision {
  outcome: "improved" | "regressed" | "inconclusive" | "crashed";
  /** Inconclusive with runs left: measure again with another seed. */
  rerun: boolean;
  /** Mean val_bpb of the candidate's runs (null when it crashed). */
  candidate: number | null;
  /** Mean val_bpb of the parent's runs; null when a crash is judged before the parent was measured. */
  parent: number | null;
  /** candidate - parent; negative is better. */
  delta: number | null;
  /** The gain needed to count as improved: k x sigma x sqrt(1/runs + 1/parentRuns). */
  threshold: number | null;
  sigma: number;
  k: number;
  runs: number;
  parentRuns: number;
  maxRuns: number;
  /** Why a crash was a crash: the runner's status and reason or log excerpt. */
  crash: string | null;
}

/** The numbers the judge needs. */
export interface JudgeInput {
  /** val_bpb of every successful run of the candidate's code. */
  candidate: readonly number[];
  /** val_bpb of every successful run of the parent's code; may be empty only for a crash. */
  parent: readonly number[];
  /** Run-to-run noise (standard deviation of one run's val_bpb). */
  sigma: number;
  /** How many sigmas of the difference a gain must clear. */
  k: number;
  /** Runs allowed for the candidate before an inconclusive result is final. */
  maxRuns: number;
  /** Set when the latest run did not finish: status and reason or log excerpt. */
  crash?: string;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * Decides an experiment against its parent. With n candidate runs and m parent runs the
 * difference of means has noise sigma x sqrt(1/n + 1/m):
 * - improved when delta <= -k x that noise;
 * - regressed when delta >= 0;
 * - otherwise inconclusive: re-run with another seed while n < maxRuns.
 * A crash is a crash, whatever the numbers.
 */
export function judge(input: JudgeInput): Decision {
  const { candidate, parent, sigma, k, maxRuns } = input;
  if (!(sigma > 0)) throw new Error(`Expected \`sigma\` to be a number > 0, got \`${sigma}\``);
  const base = { sigma, k, runs: candidate.length, parentRuns: parent.length, maxRuns };
  if (input.crash !== undefined) {
    const parentMean = parent.length > 0 ? mean(parent) : null;
    return { ...base, outcome: "crashed", rerun: false, parent: parentMean, candidate: null, delta: null, threshold: null, crash: input.crash };
  }
  if (parent.length === 0 || candidate.length === 0) {
    throw new Error(`Expected runs of both the candidate and the parent, got ${candidate.length} and ${parent.length}`);
  }
  const delta = mean(candidate) - mean(parent);
  const threshold = k * sigma * Math.sqrt(1 / candidate.length + 1 / parent.length);
  const outcome = delta <= -threshold ? "improved" : delta >= 0 ? "regressed" : "inconclusive";
  const rerun = outcome === "inconclusive" && candidate.length < maxRuns;
  return { ...base, outcome, rerun, parent: mean(parent), candidate: mean(candidate), delta, threshold, crash: null };
}

/** Pooled run-to-run standard deviation over groups of runs of identical code (groups of one carry no information). */
export function pooledSigma(groups: Iterable<readonly number[]>): number | null {
  let squares = 0;
  let freedom = 0;
  for (const group of groups) {
    if (group.length < 2) continue;
    const m = mean(group);
    for (const v of group) squares += (v - m) ** 2;
    freedom += group.length - 1;
  }
  return freedom > 0 ? Math.sqrt(squares / freedom) : null;
}
