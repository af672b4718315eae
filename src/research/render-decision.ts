import type { Measurement } from "./experiment.ts";
import type { Decision } from "./judge.ts";

const bpb = (x: number | null) => (x === null ? "n/a" : x.toFixed(6));
const signed = (x: number) => (x > 0 ? "+" : x < 0 ? "−" : "") + Math.abs(x).toFixed(6);

/** What a decision means for the experiment, in a few words. */
export function decisionHeadline(decision: Decision): string {
  if (decision.outcome === "improved") return `improved val_bpb by ${Math.abs(decision.delta!).toFixed(6)}`;
  if (decision.outcome === "regressed") return `no gain (delta ${signed(decision.delta!)})`;
  if (decision.outcome === "crashed") return "crashed";
  return decision.rerun ? `inconclusive after ${decision.runs} run(s), re-running with another seed` : `inconclusive after ${decision.runs} runs`;
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
    if (decision.parent !== null) lines.push("", `Parent val_bpb: ${bpb(decision.parent)} over ${decision.parentRuns} run(s).`);
    return lines.join("\n");
  }
  const noise = decision.sigma * Math.sqrt(1 / decision.runs + 1 / decision.parentRuns);
  lines.push(
    "| | val_bpb | runs |",
    "|---|---:|---:|",
    `| parent | ${bpb(decision.parent)} | ${decision.parentRuns} |`,
    `| this change | ${bpb(decision.candidate)} | ${decision.runs} |`,
    `| delta | ${signed(decision.delta!)} | |`,
    "",
    `**Rule.** With run-to-run noise σ = ${decision.sigma.toFixed(6)}, the difference of the means has noise ` +
      `σ·√(1/${decision.runs} + 1/${decision.parentRuns}) = ${noise.toFixed(6)}. ` +
      `Improved when delta ≤ −${decision.k} × ${noise.toFixed(6)} = −${decision.threshold!.toFixed(6)}; ` +
      `regressed when delta ≥ 0; otherwise inconclusive, re-run with another seed up to ${decision.maxRuns} runs.`,
  );
  return lines.join("\n");
}
