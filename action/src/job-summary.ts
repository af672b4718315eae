/** The job summary of one experiment: the verdict, the figures and the training loss curve. */
import type { Result } from "../../src/runner/result.ts";

/** Points on the loss chart at most; longer curves are sampled evenly, ends included. */
export const CHART_POINTS = 50;

/** Evenly spaced points of `curve` (first and last kept), at most `count`. */
export function samplePoints<T>(curve: readonly T[], count = CHART_POINTS): T[] {
  if (curve.length <= count) return [...curve];
  return Array.from({ length: count }, (_, i) => curve[Math.round((i * (curve.length - 1)) / (count - 1))]);
}

/** A code fence longer than any run of backticks in `text`. */
function fenced(text: string, info = ""): string {
  const fence = "`".repeat(Math.max(3, ...(text.match(/`+/g) ?? []).map((run) => run.length + 1)));
  return `${fence}${info}\n${text}\n${fence}`;
}

const fixed = (value: number | null, digits: number) => (value === null ? "n/a" : value.toFixed(digits));

/** Markdown for `$GITHUB_STEP_SUMMARY`: a table of the result and a Mermaid chart of the loss. */
export function formatJobSummary(result: Result): string {
  const verdict = result.status === "ok" ? `val_bpb ${fixed(result.val_bpb, 6)}` : result.status;
  const rows: [string, string][] = [
    ["status", `\`${result.status}\``],
    ["val_bpb (evaluator)", fixed(result.val_bpb, 6)],
    ["training_seconds", fixed(result.training_seconds, 1)],
    ["total_seconds", fixed(result.total_seconds, 1)],
    ["peak_vram_mb", fixed(result.peak_vram_mb, 1)],
    ["mfu_percent", fixed(result.mfu_percent, 2)],
    ["total_tokens_M", fixed(result.total_tokens_M, 1)],
    ["num_steps", String(result.num_steps)],
    ["num_params_M", fixed(result.num_params_M, 1)],
    ["depth", result.depth === null ? "n/a" : String(result.depth)],
    ["profile, seed", `${result.profile}, ${result.seed}`],
    ["commits", `base \`${result.base_sha.slice(0, 7)}\`, head \`${result.head_sha.slice(0, 7)}\``],
  ];
  const parts = [
    `## autoresearch: ${verdict}`,
    ["| | |", "|---|---|", ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join("\n"),
  ];
  for (const warning of result.warnings ?? []) parts.push(`> [!WARNING]\n> ${warning}`);
  if (result.reason) parts.push(`**Why:**\n\n${fenced(result.reason)}`);
  if (result.crash_excerpt) parts.push(`**End of the log:**\n\n${fenced(result.crash_excerpt)}`);
  const points = samplePoints(result.loss_curve);
  if (points.length >= 2) {
    const chart = [
      "xychart-beta",
      '  title "Training loss"',
      `  x-axis "step" [${points.map(([step]) => step).join(", ")}]`,
      '  y-axis "loss"',
      `  line [${points.map(([, loss]) => Number(loss.toPrecision(4))).join(", ")}]`,
    ].join("\n");
    const table = ["| step | loss |", "|---:|---:|", ...points.map(([step, loss]) => `| ${step} | ${loss.toFixed(4)} |`)].join("\n");
    parts.push(`### Training loss\n\n${fenced(chart, "mermaid")}\n\n<details><summary>as a table</summary>\n\n${table}\n\n</details>`);
  }
  return `${parts.join("\n\n")}\n`;
}
