import { DEFAULT_SEED } from "../runner/result.ts";
import { latestMeasurement, type Commit, type Experiment, type Measurement, type Outcome } from "./experiment.ts";
import { judge, type Decision } from "./judge.ts";
import { Ledger } from "./ledger.ts";

/** The research branch and everything tried on it, as a forge stores them. */
export interface ResearchState {
  /** Head of the research branch. */
  head: Commit;
  experiments: Experiment[];
  /** The noise epoch: a re-baseline starts a new one and forgets older runs. */
  epoch: number;
}

/** The numbers that steer the loop (from the `noise` and `concurrency` config). */
export interface PlanSettings {
  /** Runs in flight at most: the number of GPU runners. */
  concurrency: number;
  /** A gain must clear k sigmas of the difference. */
  k: number;
  /** Floor for the measured noise, so that a lucky quiet baseline cannot make the judge credulous. */
  minSigma: number;
  /** Baseline runs needed before the noise is known. */
  baselineRuns: number;
  /** Runs of one experiment before an inconclusive result is final. */
  maxRuns: number;
  /** Measure the research head once more after each merge (the merged run was selected, so it is biased low). */
  remeasureAfterMerge: boolean;
}

/** Whether new runs may start now, and how many experiments the budget still allows. */
export interface Gate {
  open: boolean;
  experimentsLeft: number;
}

/** One step for a forge to take. Merges come first, then the rest in order. */
export type Action =
  | { type: "merge"; experiment: Experiment; decision: Decision }
  | { type: "rebase"; experiment: Experiment; decision: Decision | null }
  | { type: "rerun"; experiment: Experiment; decision: Decision | null; seed: number }
  | { type: "close"; experiment: Experiment; outcome: Outcome; decision: Decision | null }
  | { type: "baseline"; seed: number }
  | { type: "propose" };

/** How a run that did not finish is described in a decision. */
function crashOf(m: Measurement): string | undefined {
  if (m.status === "ok") return undefined;
  return `${m.status}: ${m.reason ?? m.crashExcerpt ?? "no log"}`;
}

/**
 * Decides what to do next from the state alone, so that running it twice on the same
 * state (a redelivered webhook, a restart) asks for the same steps:
 * - every open experiment whose latest run reported is judged against its parent:
 *   crashed, regressed and finally inconclusive ones close, inconclusive ones re-run with
 *   another seed, improved ones merge (the best one on the current head, one at a time)
 *   or, when their parent is no longer the head, are rebased and re-measured;
 * - free slots go first to baseline runs of the head (until the noise and the head's
 *   val_bpb are known, and once after each merge), then to new proposals.
 */
export function plan(state: ResearchState, settings: PlanSettings, gate: Gate): Action[] {
  const ledger = new Ledger(state.experiments, state.epoch);
  const measuredSigma = ledger.sigma();
  const sigma = Math.max(measuredSigma ?? 0, settings.minSigma);
  const actions: Action[] = [];
  const improved: Array<{ experiment: Experiment; decision: Decision }> = [];
  let busy = 0;

  for (const experiment of ledger.experiments) {
    if (experiment.state !== "open") continue;
    const latest = latestMeasurement(experiment);
    if (latest === undefined) {
      busy++;
      continue;
    }
    if (experiment.held) continue;
    if (experiment.kind === "baseline") {
      actions.push({ type: "close", experiment, outcome: "measured", decision: null });
      continue;
    }
    const crash = crashOf(latest);
    const candidate = ledger.runsOf(experiment.head.tree);
    const parent = ledger.runsOf(experiment.parent.tree);
    if (crash === undefined && candidate.length === 0) {
      // Its run belongs to an earlier noise epoch: measure it again in this one.
      actions.push({ type: "rerun", experiment, decision: null, seed: nextSeed(experiment.head.tree, state) });
      busy++;
      continue;
    }
    if (crash === undefined && (parent.length === 0 || measuredSigma === null)) {
      // Nothing to compare with yet. A stale parent will never be measured again: move to the head.
      if (parent.length === 0 && experiment.parent.sha !== state.head.sha) {
        actions.push({ type: "rebase", experiment, decision: null });
        busy++;
      }
      continue;
    }
    const decision = judge({ candidate, parent, sigma, k: settings.k, maxRuns: settings.maxRuns, crash });
    if (decision.outcome === "improved") {
      improved.push({ experiment, decision });
    } else if (decision.rerun) {
      actions.push({ type: "rerun", experiment, decision, seed: nextSeed(experiment.head.tree, state) });
      busy++;
    } else {
      actions.push({ type: "close", experiment, outcome: decision.outcome, decision });
    }
  }

  // One merge per step, the best gain first; the others are re-measured on the new head.
  improved.sort((a, b) => a.decision.candidate! - b.decision.candidate!);
  let headTree = state.head.tree;
  let merged = false;
  for (const { experiment, decision } of improved) {
    if (!merged && experiment.parent.sha === state.head.sha) {
      actions.unshift({ type: "merge", experiment, decision });
      headTree = experiment.head.tree;
      merged = true;
    } else {
      actions.push({ type: "rebase", experiment, decision });
      busy++;
    }
  }

  if (!gate.open) return actions;
  let slots = settings.concurrency - busy;
  const headRuns = ledger.runsOf(headTree).length;
  const baselines = ledger.experiments.filter(
    (e) =>
      e.kind === "baseline" &&
      e.parent.tree === headTree &&
      ((e.state === "open" && latestMeasurement(e) === undefined) || e.measurements.some((m) => m.epoch === state.epoch)),
  );
  const pending = baselines.filter((e) => latestMeasurement(e) === undefined).length;
  // Until the noise has the degrees of freedom `baselineRuns` runs of one code give, the head gets all of them,
  // whether they run side by side or, at concurrency 1, one after another.
  const noiseKnown = ledger.noiseFreedom() >= settings.baselineRuns - 1;
  let missing = Math.max(0, (noiseKnown ? 1 : settings.baselineRuns) - headRuns - pending);
  const fromMerge = merged || ledger.experiments.some((e) => e.state === "merged" && e.head.tree === headTree);
  if (settings.remeasureAfterMerge && fromMerge && baselines.length === 0) missing = Math.max(missing, 1);

  for (let i = 0; i < missing && slots > 0; i++, slots--) {
    actions.push({ type: "baseline", seed: nextSeed(headTree, state) + i });
  }
  if (headRuns === 0) return actions;
  for (let i = 0; i < Math.min(slots, gate.experimentsLeft); i++) actions.push({ type: "propose" });
  return actions;
}

/** A seed not yet used for this code: the reference seed, then the next ones. */
export function nextSeed(tree: string, state: ResearchState): number {
  const shas = new Set<string>();
  for (const e of state.experiments) {
    for (const m of e.measurements) if (m.tree === tree) shas.add(m.sha);
    if (e.state === "open" && e.head.tree === tree && latestMeasurement(e) === undefined) shas.add(e.head.sha);
  }
  return DEFAULT_SEED + shas.size;
}
