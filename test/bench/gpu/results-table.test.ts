import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { appendToRuns, formatRows, RUNS_HEADER } from "../../../bench/gpu/results-table.ts";
import type { TrainBenchResult } from "../../../bench/gpu/summarize-steps.ts";

const train: TrainBenchResult = {
  bench: "train", impl: "autoresearch", device: "NVIDIA H100", steps: 20, step_ms: 334.25, tokens_per_s: 1568512.4,
  mfu_percent: 43.96, peak_vram_mb: 45060.2, startup_s: 12.34, val_bpb: null,
};
const run = { date: "2026-12-03", gpu: "NVIDIA H100 80GB HBM3", commit: "abc1234", versions: "node v20.20.2", budgetSeconds: 120 };

describe("GPU results table", () => {
  it("formats a row per implementation with figures, and skips empty ones", () => {
    const rows = formatRows(run, [
      { impl: "autoresearch", pattern: "L", train, valBpb: 1.23456 },
      { impl: "PyTorch", pattern: "L", train: null, valBpb: null },
      { impl: "autoresearch", pattern: "SSSL", train: null, valBpb: 1.2 },
    ]);
    expect(rows).toEqual([
      "| 2026-12-03 | NVIDIA H100 80GB HBM3 | abc1234 | node v20.20.2 | autoresearch | L | 1568512 | 44.0 | 334.3 | 45060 | 12.3 | 1.2346 (120 s) |",
      "| 2026-12-03 | NVIDIA H100 80GB HBM3 | abc1234 | node v20.20.2 | autoresearch | SSSL | - | - | - | - | - | 1.2000 (120 s) |",
    ]);
  });

  it("appends to the end of the runs table, leaving what follows it in place", () => {
    const md = ["# R", "", RUNS_HEADER, "|---|", "| old |", "", "## After"].join("\n");
    expect(appendToRuns(md, ["| new |"]).split("\n")).toEqual(["# R", "", RUNS_HEADER, "|---|", "| old |", "| new |", "", "## After"]);
  });

  it("bench/RESULTS.md has the table run.sh appends to", () => {
    const md = readFileSync(path.resolve(import.meta.dirname, "../../../bench/RESULTS.md"), "utf8");
    expect(appendToRuns(md, ["| x |"])).toContain(`${RUNS_HEADER}\n|---|---|---|---|---|---|---|---|---|---|---|---|\n| x |`);
  });

  it("a file without the table is an error that names the header", () => {
    expect(() => appendToRuns("# nothing", [])).toThrow(/runs table header/);
  });
});
