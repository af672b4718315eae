import type { Experiment, Measurement } from "../research/experiment.ts";
import type { Decision } from "../research/judge.ts";
import { formatCpuShare } from "../research/contention.ts";
import { renderDecision } from "../research/render-decision.ts";
import type { Result } from "../runner/result.ts";

/** The name of the check the app creates on every measured commit. */
export const CHECK_NAME = "autoresearch/val_bpb";

/** What a check run shows. */
export interface CheckOutput {
  conclusion: "success" | "failure" | "neutral";
  title: string;
  summary: string;
}

const CHART_POINTS = 60;

/** The loss curve as a Mermaid line chart, thinned to at most 60 points. */
function lossChart(curve: Result["loss_curve"]): string[] {
  if (curve.length < 2) return [];
  const every = Math.ceil(curve.length / CHART_POINTS);
  const points = curve.filter((_, i) => i % every === 0 || i === curve.length - 1);
  return [
    "```mermaid",
    "xychart-beta",
    '  title "training loss"',
    `  x-axis "step" [${points.map(([step]) => step).join(", ")}]`,
    `  line [${points.map(([, loss]) => loss.toFixed(4)).join(", ")}]`,
    "```",
  ];
}

/** The runner's summary numbers as a table. */
function runTable(result: Result): string[] {
  const rows: Array<[string, string | number | null]> = [
    ["val_bpb (trusted evaluator)", result.val_bpb?.toFixed(6) ?? null],
    ["val_bpb printed by train.ts", result.reported_val_bpb?.toFixed(6) ?? null],
    ["training_seconds", result.training_seconds.toFixed(1)],
    ["total_seconds", result.total_seconds.toFixed(1)],
    ["peak_vram_mb", result.peak_vram_mb.toFixed(1)],
    ["mfu_percent", result.mfu_percent?.toFixed(2) ?? null],
    ["total_tokens_M", result.total_tokens_M.toFixed(1)],
    ["num_steps", result.num_steps],
    ["num_params_M", result.num_params_M.toFixed(1)],
    ["depth", result.depth],
    ["profile / seed", `${result.profile} / ${result.seed}`],
    ["budget clock", result.budget_clock === "cpu" ? `CPU time, CPU share ${result.cpu_share == null ? "n/a" : formatCpuShare(result.cpu_share)}` : result.budget_clock ? "wall time" : null],
  ];
  return ["| | |", "|---|---:|", ...rows.map(([k, v]) => `| ${k} | ${v ?? "n/a"} |`)];
}

/**
 * The check for one measured commit: the decision with its rule and numbers, what the
 * app does next, the run's summary and its loss curve.
 *
 * @param next - what happens now, e.g. "Merged." or "Re-running with seed 43."
 */
export function renderCheck(experiment: Experiment, measurement: Measurement, decision: Decision | null, result: Result | null, next: string): CheckOutput {
  const runs = decision && decision.runs > 1 ? `, mean of ${decision.runs} ${decision.fresh ? "fresh " : ""}runs` : "";
  const mean = decision?.candidate ?? measurement.valBpb;
  const value = mean === null ? measurement.status : `val_bpb ${mean.toFixed(6)}`;
  const outcome = decision?.outcome ?? (experiment.kind === "baseline" ? "baseline" : "measured");
  const delta = decision?.delta == null ? "" : ` (${decision.delta > 0 ? "+" : ""}${decision.delta.toFixed(6)}${runs})`;
  const conclusion = outcome === "improved" ? "success" : outcome === "regressed" || outcome === "crashed" ? "failure" : "neutral";
  const summary = [
    decision ? renderDecision(decision, measurement) : `Measured ${value} with seed ${measurement.seed}.`,
    ...(decision && decision.runs > 1 && measurement.valBpb !== null ? ["", `This run (seed ${measurement.seed}): val_bpb ${measurement.valBpb.toFixed(6)}.`] : []),
    "",
    `**Next.** ${next}`,
    ...(result ? ["", ...runTable(result), "", ...lossChart(result.loss_curve)] : []),
  ];
  if (!result && measurement.reason) summary.push("", `Reason: ${measurement.reason}`);
  return { conclusion, title: `${value}${delta}: ${outcome}`, summary: summary.join("\n") };
}
