/**
 * The rows bench/gpu/run.sh records in bench/RESULTS.md: one per implementation and window
 * pattern, appended to the "## Runs" table so that every GPU run stays on record.
 */
import type { TrainBenchResult } from "./summarize-steps.ts";

/** What one run of run.sh says about one implementation. */
export interface ResultRow {
  impl: string;
  pattern: string;
  train: TrainBenchResult | null;
  /** From the budget stage: val_bpb after `budgetSeconds` of training. */
  valBpb: number | null;
}

export interface RunInfo {
  date: string;
  gpu: string;
  commit: string;
  versions: string;
  budgetSeconds: number | null;
}

export const RUNS_HEADER = "| date | GPU | commit | versions | impl | pattern | tokens/s | MFU % | step ms | peak VRAM MiB | startup s | val_bpb (budget) |";

const cell = (v: number | null | undefined, digits: number) => (v === null || v === undefined ? "-" : v.toFixed(digits));

/** Markdown table lines for the rows that have any figure. */
export function formatRows(run: RunInfo, rows: ResultRow[]): string[] {
  return rows
    .filter((r) => r.train || r.valBpb !== null)
    .map((r) => {
      const bpb = r.valBpb === null ? "-" : `${r.valBpb.toFixed(4)} (${run.budgetSeconds} s)`;
      return `| ${run.date} | ${run.gpu} | ${run.commit} | ${run.versions} | ${r.impl} | ${r.pattern} | ${cell(r.train?.tokens_per_s, 0)} | ` +
        `${cell(r.train?.mfu_percent, 1)} | ${cell(r.train?.step_ms, 1)} | ${cell(r.train?.peak_vram_mb, 0)} | ${cell(r.train?.startup_s, 1)} | ${bpb} |`;
    });
}

/** `markdown` with `lines` added at the end of the table that starts with {@link RUNS_HEADER}. */
export function appendToRuns(markdown: string, lines: string[]): string {
  const all = markdown.split("\n");
  const header = all.indexOf(RUNS_HEADER);
  if (header < 0) throw new Error(`Expected bench/RESULTS.md to hold the runs table header \`${RUNS_HEADER}\``);
  let end = header + 1;
  while (end < all.length && all[end].startsWith("|")) end++;
  return [...all.slice(0, end), ...lines, ...all.slice(end)].join("\n");
}
