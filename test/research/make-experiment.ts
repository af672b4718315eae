import type { Experiment, Measurement } from "../../src/research/experiment.ts";
import { judge, type Decision } from "../../src/research/judge.ts";
import { DEFAULT_CONFIG } from "../../src/research/research-config.ts";

/** A measurement with defaults: an ok run at epoch 0. */
export function measurement(sha: string, tree: string, valBpb: number | null, extra: Partial<Measurement> = {}): Measurement {
  return {
    sha, tree, seed: 42, epoch: 0, status: valBpb === null ? "crash" : "ok", valBpb,
    peakVramMb: 1000, trainingSeconds: 300, numSteps: 900, crashExcerpt: valBpb === null ? "RuntimeError: boom" : null, reason: null,
    ...extra,
  };
}

/** An experiment with defaults: open, on parent `p0` (tree `t0`), head `<branch>-h`. */
export function experiment(n: number, extra: Partial<Experiment> = {}): Experiment {
  return {
    branch: `autoresearch/night/${n}`, n, kind: "experiment", title: `Experiment ${n}`, hypothesis: `Hypothesis ${n}`,
    fingerprint: `f${n}`, parent: { sha: "p0", tree: "t0" }, head: { sha: `h${n}`, tree: `t${n}` }, seed: 42,
    measurements: [], state: "open", held: false, outcome: null, decision: null, agent: "test", tokens: 0,
    createdAt: "2025-01-01T22:00:00.000Z", commands: [],
    ...extra,
  };
}

/** A closed baseline run of `parent` that measured `values` (one run per value). */
export function baseline(n: number, parent: { sha: string; tree: string }, values: number[], epoch = 0): Experiment[] {
  return values.map((v, i) =>
    experiment(n + i, {
      kind: "baseline", fingerprint: null, parent, head: { sha: `b${n + i}`, tree: parent.tree }, state: "closed", outcome: "measured",
      measurements: [measurement(`b${n + i}`, parent.tree, v, { epoch, seed: 42 + i })],
    }),
  );
}

/**
 * The judge's decision with the default rule and noise sigma 0.001 at 2 degrees of freedom:
 * with `confirmation` the decision after those fresh runs, without it the test's.
 */
export function judged(candidate: number[], parent: number[], confirmation?: number[], crash?: string): Decision {
  return judge({ candidate, confirmation, parent, sigma: 0.001, freedom: 2, rule: DEFAULT_CONFIG.noise, crash });
}
