import { studentTQuantile } from "./student-t.ts";

/** The judge's rule, from the `noise` config. */
export interface JudgeRule {
  /** Test runs of one experiment at most: the looks of the sequential test. */
  maxRuns: number;
  /** Chance of merging a change with no effect, spent over the looks (half of what is left at each). */
  alpha: number;
  /** A look that is not this many standard errors better than the parent ends the test (no more runs). */
  futility: number;
  /** Fresh runs of a change that passed the test; they give the reported delta and become the new head's value. */
  confirmRuns: number;
}

/** What the judge concluded about one experiment. */
export interface Decision {
  outcome: "improved" | "regressed" | "inconclusive" | "crashed";
  /** Measure again with another seed: the next look of the test, or a confirmation run. */
  rerun: boolean;
  /** What the next run is for; null when none is needed. */
  next: "test" | "confirm" | null;
  /** The code the decision is about (set by the plan; null outside it). */
  tree: string | null;
  /** Reported mean val_bpb of the change: its fresh confirmation runs once it passed the test, else its test runs. */
  candidate: number | null;
  /** Mean val_bpb of the parent's fresh runs (never the runs that won the parent its merge). */
  parent: number | null;
  /** candidate - parent; negative is better. */
  delta: number | null;
  /** Runs behind `candidate`. */
  runs: number;
  parentRuns: number;
  /** Whether `candidate` and `delta` come from confirmation runs taken after the test passed. */
  fresh: boolean;
  /** Test runs so far (the look): the confirmation runs come after them. */
  testRuns: number;
  /** Mean of the test runs minus the parent's. */
  testDelta: number | null;
  /** testDelta over its standard error. */
  t: number | null;
  /** The t a gain must reach at this look: Student's t quantile of `alpha` at `freedom`. */
  bound: number | null;
  /** The test delta the bound stands for: bound x standard error (negative). */
  threshold: number | null;
  /** The chance of a false merge spent at this look. */
  alpha: number | null;
  /** Run-to-run noise (standard deviation of one run's val_bpb) and its degrees of freedom. */
  sigma: number;
  freedom: number;
  maxRuns: number;
  futility: number;
  confirmRuns: number;
  /** Why a crash was a crash: the runner's status and reason or log excerpt. */
  crash: string | null;
}

/** The numbers the judge needs. */
export interface JudgeInput {
  /** val_bpb of the change's test runs, in order. */
  candidate: readonly number[];
  /** Fresh runs of the change after it passed the test; undefined while it is being tested. */
  confirmation?: readonly number[];
  /** val_bpb of the parent's fresh runs; may be empty only for a crash. */
  parent: readonly number[];
  sigma: number;
  /** Degrees of freedom of `sigma`: runs minus codes, over the codes measured twice or more. */
  freedom: number;
  rule: JudgeRule;
  /** Set when the latest run did not finish: status and reason or log excerpt. */
  crash?: string;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** The chance of a false merge spent at look `look` (1-based) of `looks`: halves at each look and sums to `alpha`. */
export function alphaAtLook(alpha: number, look: number, looks: number): number {
  return (alpha * 2 ** (looks - look)) / (2 ** looks - 1);
}

/**
 * Decides an experiment against its parent in two stages.
 *
 * Test: with n test runs, m fresh parent runs and noise sigma at f degrees of freedom,
 * t = (mean - parent) / (sigma x sqrt(1/n + 1/m)). At look n the change passes when t is at most
 * Student's t quantile of alpha_n at f (alpha_n from {@link alphaAtLook}, so the looks together
 * spend at most alpha); otherwise it gets another run while n < maxRuns and t <= -futility, and
 * closes when it does not: regressed at no gain (delta >= 0, ties included), else inconclusive.
 *
 * Confirmation: a change that passed runs `confirmRuns` more times. Those runs were not
 * selected by the test, so their mean gives the reported delta and the new head's value; the
 * change merges when that fresh delta is a gain too, and closes as inconclusive when it is not.
 * A crash is a crash, whatever the numbers.
 */
export function judge(input: JudgeInput): Decision {
  const { candidate, confirmation, parent, sigma, freedom, rule } = input;
  if (!(sigma > 0)) throw new Error(`Expected \`sigma\` to be a number > 0, got \`${sigma}\``);
  const parentMean = parent.length > 0 ? mean(parent) : null;
  const base = {
    tree: null, parent: parentMean, parentRuns: parent.length, sigma, freedom, maxRuns: rule.maxRuns, futility: rule.futility, confirmRuns: rule.confirmRuns,
    testRuns: candidate.length, crash: null,
  };
  const none = { testDelta: null, t: null, bound: null, threshold: null, alpha: null };
  if (input.crash !== undefined) {
    return { ...base, ...none, outcome: "crashed", rerun: false, next: null, candidate: null, delta: null, runs: 0, fresh: false, crash: input.crash };
  }
  if (parentMean === null || candidate.length === 0) {
    throw new Error(`Expected runs of both the candidate and the parent, got ${candidate.length} and ${parent.length}`);
  }
  if (!(freedom > 0)) throw new Error(`Expected the noise to have degrees of freedom > 0, got \`${freedom}\``);

  const look = candidate.length;
  const error = sigma * Math.sqrt(1 / look + 1 / parent.length);
  const testDelta = mean(candidate) - parentMean;
  const t = testDelta / error;
  const alpha = alphaAtLook(rule.alpha, Math.min(look, rule.maxRuns), rule.maxRuns);
  const bound = studentTQuantile(alpha, freedom);
  const test = { testDelta, t, bound, threshold: bound * error, alpha };
  const reported = { candidate: mean(candidate), delta: testDelta, runs: look, fresh: false };

  if (confirmation !== undefined) {
    if (confirmation.length < rule.confirmRuns) return { ...base, ...test, ...reported, outcome: "improved", rerun: true, next: "confirm" };
    const fresh = { candidate: mean(confirmation), delta: mean(confirmation) - parentMean, runs: confirmation.length, fresh: true };
    const outcome = fresh.delta < 0 ? "improved" : "inconclusive";
    return { ...base, ...test, ...fresh, outcome, rerun: false, next: null };
  }
  if (t <= bound) {
    const confirm = rule.confirmRuns > 0;
    return { ...base, ...test, ...reported, outcome: "improved", rerun: confirm, next: confirm ? "confirm" : null };
  }
  if (look < rule.maxRuns && t <= -rule.futility) return { ...base, ...test, ...reported, outcome: "inconclusive", rerun: true, next: "test" };
  return { ...base, ...test, ...reported, outcome: testDelta >= 0 ? "regressed" : "inconclusive", rerun: false, next: null };
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
