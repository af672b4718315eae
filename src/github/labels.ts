import type { Outcome } from "../research/experiment.ts";

/** The labels the app puts on its issues and pull requests. */
export const LABELS = {
  /** Every issue and pull request of the app: the one label the state is listed by. */
  app: "autoresearch",
  dashboard: "autoresearch:dashboard",
  baseline: "autoresearch:baseline",
  /** Set by a human (or `hold`): the loop neither merges nor closes the experiment. */
  hold: "autoresearch:hold",
} as const;

/** The label of an outcome: `autoresearch:improved`, `autoresearch:regressed`, ... */
export const outcomeLabel = (outcome: Outcome) => `autoresearch:${outcome}`;
