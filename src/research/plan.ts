import { DEFAULT_SEED } from "../runner/result.ts";
import { latestMeasurement, type Commit, type Experiment, type Measurement, type Outcome } from "./experiment.ts";
import { judge, type Decision, type JudgeRule } from "./judge.ts";
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
export interface PlanSettings extends JudgeRule {
  /** Runs in flight at most: the number of GPU runners. */
  concurrency: number;
  /** Fresh runs of every research head: the first one, and each merge (its confirmation runs count). */
  baselineRuns: number;
  /** Floor for the measured noise; 0 for none (the t test already allows for a noise measured on few runs). */
  minSigma: number;
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
 * - every open experiment whose latest run reported is judged against its parent's fresh
 *   runs (see {@link judge}): crashed, regressed and finally inconclusive ones close, the ones
 *   still being tested or confirmed re-run with another seed, confirmed ones merge (the best
 *   one on the current head, one at a time) or, when their parent is no longer the head, are
 *   rebased and tested again;
 * - free slots go first to baseline runs of the head, until it has `baselineRuns` fresh runs
 *   (at the start and after each merge, whose confirmation runs count), then to new proposals.
 */
export function plan(state: ResearchState, settings: PlanSettings, gate: Gate): Action[] {
  const ledger = new Ledger(state.experiments, state.epoch);
  const measuredSigma = ledger.sigma();
  const sigma = Math.max(measuredSigma ?? 0, settings.minSigma);
  const freedom = ledger.noiseFreedom();
  const actions: Action[] = [];
  const confirmed: Array<{ experiment: Experiment; decision: Decision }> = [];
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
    const tree = experiment.head.tree;
    const runs = ledger.runsOf(tree);
    const parent = ledger.freshRunsOf(experiment.parent.tree);
    if (crash === undefined && runs.length === 0) {
      // Its run belongs to an earlier noise epoch: measure it again in this one.
      actions.push({ type: "rerun", experiment, decision: null, seed: nextSeed(tree, state) });
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
    // Once this code passed the test, the runs after its test runs are confirmation runs.
    const stored = experiment.decision;
    const confirming = stored?.next === "confirm" && stored.tree === tree && runs.length >= stored.testRuns;
    const decision: Decision = {
      ...judge({
        candidate: confirming ? runs.slice(0, stored.testRuns) : runs,
        confirmation: confirming ? runs.slice(stored.testRuns) : undefined,
        parent, sigma, freedom, rule: settings, crash,
      }),
      tree,
    };
    if (decision.outcome === "improved" && !decision.rerun) {
      confirmed.push({ experiment, decision });
    } else if (decision.rerun && experiment.parent.sha !== state.head.sha && decision.next === "confirm") {
      // Passed on a head that has moved on: a confirmation there would measure the wrong merge.
      actions.push({ type: "rebase", experiment, decision });
      busy++;
    } else if (decision.rerun) {
      actions.push({ type: "rerun", experiment, decision, seed: nextSeed(tree, state) });
      busy++;
    } else {
      actions.push({ type: "close", experiment, outcome: decision.outcome, decision });
    }
  }

  // One merge per step, the best fresh value first; the others are tested again on the new head.
  confirmed.sort((a, b) => a.decision.candidate! - b.decision.candidate!);
  let headTree = state.head.tree;
  let merged = false;
  for (const { experiment, decision } of confirmed) {
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
  // After a merge in this step these are its confirmation runs: its stored decision marks the test runs.
  const headRuns = ledger.freshRunsOf(headTree).length;
  const pending = ledger.experiments.filter(
    (e) => e.kind === "baseline" && e.parent.tree === headTree && e.state === "open" && latestMeasurement(e) === undefined,
  ).length;
  const missing = Math.max(0, settings.baselineRuns - headRuns - pending);
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
