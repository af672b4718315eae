import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { formatSummary, parseSummary, reportRun, type RunSummary } from "../../src/data/run-report.ts";

const baseline: RunSummary = {
  val_bpb: 0.9979, training_seconds: 300.1, total_seconds: 325.9, peak_vram_mb: 45060.2, mfu_percent: 39.8,
  total_tokens_M: 499.6, num_steps: 953, num_params_M: 50.3, depth: 8,
};

describe("the summary block", () => {
  it("prints the reference's keys, order, alignment and formats", () => {
    expect(formatSummary(baseline)).toBe([
      "---",
      "val_bpb:          0.997900",
      "training_seconds: 300.1",
      "total_seconds:    325.9",
      "peak_vram_mb:     45060.2",
      "mfu_percent:      39.80",
      "total_tokens_M:   499.6",
      "num_steps:        953",
      "num_params_M:     50.3",
      "depth:            8",
    ].join("\n"));
  });

  it("parses back from a log, with n/a for an unknown MFU and a val_bpb left to the evaluator", () => {
    const log = `step 00001 ...\n${formatSummary({ ...baseline, val_bpb: NaN, mfu_percent: null })}\n`;
    expect(log).toContain("val_bpb:          n/a");
    expect(parseSummary(log)).toEqual({
      val_bpb: null, training_seconds: 300.1, total_seconds: 325.9, peak_vram_mb: 45060.2, mfu_percent: null,
      total_tokens_M: 499.6, num_steps: 953, num_params_M: 50.3, depth: 8,
    });
    expect(() => parseSummary("no summary here")).toThrow("No `---` summary block found in the log");
  });

  it("names the budget's clock last, when given, and the parser leaves the word out", () => {
    const block = formatSummary({ ...baseline, budget_clock: "cpu" });
    expect(block.split("\n").at(-1)).toBe("budget_clock:     cpu");
    expect(parseSummary(`\n${block}\n`)).toEqual(parseSummary(`\n${formatSummary(baseline)}\n`));
  });

  it("reportRun prints the block and writes the same figures as JSON", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "ar-report-")), "result.json");
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await reportRun({ ...baseline, loss_curve: [[0, 9.1], [1, 8.7]] }, file);
    expect(log).toHaveBeenCalledWith(formatSummary(baseline));
    log.mockRestore();
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ ...baseline, loss_curve: [[0, 9.1], [1, 8.7]] });
  });
});
