import { SEED_TRAILER } from "../runner/result.ts";
import type { Experiment } from "./experiment.ts";
import { formatDelta } from "./format-delta.ts";
import type { Decision } from "./judge.ts";
import { decisionRule } from "./render-decision.ts";

/** The commit trailer that names the experiment a commit belongs to. */
export const EXPERIMENT_TRAILER = "Autoresearch-Experiment";

/** A merge's commit message: the title line and the body under it. */
export interface SquashMessage {
  title: string;
  body: string;
}

/** The metric a merge is made on: the change's val_bpb, its delta and its parent's. */
export function mergeMetric(decision: Decision): string {
  return `val_bpb ${decision.candidate!.toFixed(6)} (${formatDelta(decision.delta!)} vs ${decision.parent!.toFixed(6)})`;
}

/**
 * The squash commit of an improvement, the same in every forge, so the research branch's
 * `git log` reads alike wherever the loop ran: the title and the metric, the hypothesis,
 * the decision rule and its numbers, then the experiment and seed trailers.
 *
 * @param ref - where the experiment lives: `#12` (a pull request), `autoresearch/r/3` (a branch)
 */
export function squashMessage(experiment: Experiment, decision: Decision, ref: string): SquashMessage {
  const metric = mergeMetric(decision);
  return {
    title: `${experiment.title}: ${metric} (${ref})`,
    body: [experiment.hypothesis, "", `${metric}; ${decisionRule(decision)}`, "", `${EXPERIMENT_TRAILER}: ${experiment.n}`, `${SEED_TRAILER}: ${experiment.seed}`].join("\n"),
  };
}
