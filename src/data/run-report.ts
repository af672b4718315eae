/** The end-of-run summary: the reference's `---` block on stdout plus the same figures as JSON. */
import type { BudgetClockKind } from "./budget-reading.ts";
import { writeFileAtomic } from "./write-file-atomic.ts";

export interface RunSummary {
  val_bpb: number;
  training_seconds: number;
  total_seconds: number;
  peak_vram_mb: number;
  /** Null where the device's bf16 peak is unknown (the CPU). */
  mfu_percent: number | null;
  total_tokens_M: number;
  num_steps: number;
  num_params_M: number;
  depth: number;
  /** [step, loss] per optimizer step, for charts. */
  loss_curve?: [number, number][];
  /** What the budget counted (prepare.ts adds it from the profile). */
  budget_clock?: BudgetClockKind;
}

/** The summary block, key for key and format for format as the reference prints it. */
export function formatSummary(s: RunSummary): string {
  const line = (key: string, value: string) => `${`${key}:`.padEnd(18)}${value}`;
  return [
    "---",
    // NaN under the runner: there the separate evaluator computes val_bpb, not train.ts.
    line("val_bpb", Number.isNaN(s.val_bpb) ? "n/a" : s.val_bpb.toFixed(6)),
    line("training_seconds", s.training_seconds.toFixed(1)),
    line("total_seconds", s.total_seconds.toFixed(1)),
    line("peak_vram_mb", s.peak_vram_mb.toFixed(1)),
    line("mfu_percent", s.mfu_percent === null ? "n/a" : s.mfu_percent.toFixed(2)),
    line("total_tokens_M", s.total_tokens_M.toFixed(1)),
    line("num_steps", String(s.num_steps)),
    line("num_params_M", s.num_params_M.toFixed(1)),
    line("depth", String(s.depth)),
    // Not in the reference's block, which always counts wall time: `cpu` on the CPU profiles.
    ...(s.budget_clock ? [line("budget_clock", s.budget_clock)] : []),
  ].join("\n");
}

/** Parses a summary block's numbers (what the runner and tests read from a log); words such as the budget clock's are left out. */
export function parseSummary(log: string): Record<string, number | null> {
  const start = log.lastIndexOf("\n---\n");
  if (start < 0) throw new Error("No `---` summary block found in the log");
  const out: Record<string, number | null> = {};
  for (const line of log.slice(start + 5).split("\n")) {
    const m = /^([a-z_M]+):\s+(\S+)\s*$/.exec(line);
    if (!m) break;
    if (m[2] === "n/a") out[m[1]] = null;
    else if (Number.isFinite(Number(m[2]))) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Prints the block and writes the figures as JSON to `jsonPath`. */
export async function reportRun(summary: RunSummary, jsonPath: string): Promise<void> {
  console.log(formatSummary(summary));
  await writeFileAtomic(jsonPath, `${JSON.stringify(summary, null, 2)}\n`);
}
