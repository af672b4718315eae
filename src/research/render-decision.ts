import type { Measurement } from "./experiment.ts";
import type { Decision } from "./judge.ts";

const bpb = (x: number | null) => (x === null ? "n/a" : x.toFixed(6));
const signed = (x: number, digits = 6) => (x > 0 ? "+" : x < 0 ? "−" : "") + Math.abs(x).toFixed(digits);
const runs = (n: number) => `${n} run${n === 1 ? "" : "s"}`;

/** What a decision means for the experiment, in a few words. */
export function decisionHeadline(decision: Decision): string {
  const { outcome, delta, testRuns } = decision;
  if (outcome === "crashed") return "crashed";
  if (outcome === "improved" && decision.fresh) return `improved val_bpb by ${Math.abs(delta!).toFixed(6)} (measured fresh on ${runs(decision.runs)})`;
  if (outcome === "improved" && decision.rerun) return `passed the test after ${runs(testRuns)}, confirming with fresh runs`;
  if (outcome === "improved") return `improved val_bpb by ${Math.abs(delta!).toFixed(6)} (on the ${runs(testRuns)} that passed the test)`;
  if (decision.fresh) return `passed the test, but ${runs(decision.runs)} measured fresh showed no gain (delta ${signed(delta!)})`;
  if (outcome === "regressed") return `no gain (delta ${signed(delta!)})`;
  return decision.rerun ? `promising after ${runs(testRuns)}, re-running with another seed` : `inconclusive after ${runs(testRuns)}`;
}

/**
 * The test in one line, for squash commits: which runs the delta comes from, and the
 * statistic against its bound.
 */
export function decisionRule(decision: Decision): string {
  const source = decision.fresh
    ? `delta measured fresh on ${runs(decision.runs)} after the test passed, against ${runs(decision.parentRuns)} of the parent`
    : `delta of the ${runs(decision.testRuns)} tested, against ${runs(decision.parentRuns)} of the parent`;
  return (
    `${source}; test: t = ${signed(decision.t!, 2)} against ${signed(decision.bound!, 2)} ` +
    `(Student's t, ${decision.freedom} df, α ${decision.alpha!.toPrecision(2)} at look ${decision.testRuns} of ${decision.maxRuns}), σ ${decision.sigma.toFixed(6)}.`
  );
}

/**
 * The judge's rule, its numbers and its decision in Markdown, for the check summary,
 * the PR comment and the local report.
 */
export function renderDecision(decision: Decision, latest?: Measurement): string {
  const lines = [`**Decision: ${decision.outcome}** (${decisionHeadline(decision)})`, ""];
  if (decision.outcome === "crashed") {
    lines.push(`The run did not finish: ${decision.crash}`);
    if (latest?.crashExcerpt) lines.push("", "```", latest.crashExcerpt.trim(), "```");
    if (decision.parent !== null) lines.push("", `Parent val_bpb: ${bpb(decision.parent)} over ${runs(decision.parentRuns)}.`);
    return lines.join("\n");
  }
  const testMean = decision.parent! + decision.testDelta!;
  lines.push("| | val_bpb | runs | delta |", "|---|---:|---:|---:|", `| parent (fresh runs) | ${bpb(decision.parent)} | ${decision.parentRuns} | |`);
  lines.push(`| this change, test runs | ${bpb(testMean)} | ${decision.testRuns} | ${signed(decision.testDelta!)} |`);
  if (decision.fresh) lines.push(`| this change, fresh runs | ${bpb(decision.candidate)} | ${decision.runs} | ${signed(decision.delta!)} |`);
  const error = decision.threshold! / decision.bound!;
  lines.push(
    "",
    `**Rule.** The noise of one run, σ = ${decision.sigma.toFixed(6)}, is pooled over every code measured twice or more ` +
      `(${decision.freedom} degrees of freedom), so the test delta has standard error σ·√(1/${decision.testRuns} + 1/${decision.parentRuns}) = ${error.toFixed(6)} ` +
      `and t = ${signed(decision.t!, 3)}. At look ${decision.testRuns} of ${decision.maxRuns} the change passes when t ≤ ${signed(decision.bound!, 3)}, ` +
      `Student's t quantile of α = ${decision.alpha!.toPrecision(3)} (the looks together spend at most the configured α), a test delta of ` +
      `${signed(decision.threshold!)}. Before the last look, t above −${decision.futility} closes the change (no more runs). A change that passes runs ` +
      `${decision.confirmRuns} more time${decision.confirmRuns === 1 ? "" : "s"}; those fresh runs, not the ones that won, give the reported delta and the new head's value, ` +
      "and it merges only if they show a gain too.",
  );
  return lines.join("\n");
}
