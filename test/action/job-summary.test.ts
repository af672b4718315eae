import { describe, expect, it } from "vitest";
import { formatJobSummary, samplePoints } from "../../action/src/job-summary.ts";
import type { Result } from "../../src/runner/result.ts";

const RESULT: Result = {
  version: 1, status: "ok", val_bpb: 0.9979, reported_val_bpb: null, training_seconds: 300.1, total_seconds: 325.9, peak_vram_mb: 45060.2,
  mfu_percent: 39.8, total_tokens_M: 499.6, num_steps: 953, num_params_M: 50.3, depth: 8, profile: "default", seed: 42,
  base_sha: "a".repeat(40), head_sha: "b".repeat(40), crash_excerpt: null, reason: null,
  loss_curve: Array.from({ length: 953 }, (_, step) => [step, 9 - step / 200] as [number, number]),
};

describe("samplePoints", () => {
  it("keeps short curves and samples long ones evenly, both ends included", () => {
    expect(samplePoints([1, 2, 3], 5)).toEqual([1, 2, 3]);
    expect(samplePoints(Array.from({ length: 101 }, (_, i) => i), 5)).toEqual([0, 25, 50, 75, 100]);
  });
});

describe("formatJobSummary", () => {
  it("shows the verdict, the figures and the loss as a Mermaid chart and a table", () => {
    const md = formatJobSummary(RESULT);
    expect(md.split("\n")[0]).toBe("## autoresearch: val_bpb 0.997900");
    expect(md).toContain("| val_bpb (evaluator) | 0.997900 |");
    expect(md).toContain("| mfu_percent | 39.80 |");
    expect(md).toContain("| commits | base `aaaaaaa`, head `bbbbbbb` |");
    const chart = /```mermaid\n([^]*?)\n```/.exec(md)![1];
    expect(chart.split("\n")[0]).toBe("xychart-beta");
    const steps = /x-axis "step" \[(.*)\]/.exec(chart)![1].split(", ").map(Number);
    const losses = /line \[(.*)\]/.exec(chart)![1].split(", ").map(Number);
    expect(steps).toHaveLength(50);
    expect([steps[0], steps.at(-1)]).toEqual([0, 952]);
    expect(losses.map((l, i) => Math.abs(l - (9 - steps[i] / 200)) < 1e-3)).not.toContain(false);
    expect(md).toContain("| 952 | 4.2400 |");
  });

  it("shows why a run failed, fenced so that the log cannot break the Markdown", () => {
    const md = formatJobSummary({ ...RESULT, status: "crash", val_bpb: null, reason: "train.ts exited with code 1", crash_excerpt: "step 3\n```\nFAIL", loss_curve: [] });
    expect(md.split("\n")[0]).toBe("## autoresearch: crash");
    expect(md).toContain("| val_bpb (evaluator) | n/a |");
    expect(md).toContain("````\nstep 3\n```\nFAIL\n````");
    expect(md).not.toContain("mermaid");
  });

  it("shows each warning of the result (a run without the sandbox) as a GitHub alert", () => {
    const md = formatJobSummary({ ...RESULT, warnings: ["trained without the sandbox"] });
    expect(md).toContain("> [!WARNING]\n> trained without the sandbox");
    expect(formatJobSummary(RESULT)).not.toContain("[!WARNING]");
  });
});
