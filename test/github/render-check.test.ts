import { describe, expect, it } from "vitest";
import { renderCheck } from "../../src/github/render-check.ts";
import { experiment, judged, measurement } from "../research/make-experiment.ts";
import { resultJson } from "./app-harness.ts";

describe("renderCheck", () => {
  const result = resultJson("h3", 42, { val_bpb: 0.99, loss_curve: Array.from({ length: 121 }, (_, i) => [i * 10, 9 - i * 0.05] as [number, number]) });

  it("titles the run with its value, delta and outcome, and explains the rule, the next step, the summary and the loss", () => {
    const decision = judged([0.99], [1, 1.002], [0.99, 0.99]);
    const check = renderCheck(experiment(3), measurement("h3", "t3", 0.99), decision, result, "Merged into `main`.");
    expect(check.conclusion).toBe("success");
    expect(check.title).toBe("val_bpb 0.990000 (-0.011000, mean of 2 fresh runs): improved");
    expect(check.summary).toContain("**Rule.** The noise of one run, σ = 0.001000");
    expect(check.summary).toContain("**Next.** Merged into `main`.");
    expect(check.summary).toContain("| peak_vram_mb | 45060.2 |");
    expect(check.summary).toContain("| profile / seed | h100 / 42 |");
    const points = /x-axis "step" \[([^\]]*)\]/.exec(check.summary)![1]!.split(", ");
    expect(points.length).toBeLessThanOrEqual(61);
    expect(points.at(-1)).toBe("1200");
  });

  it("names the budget clock in one line, with the CPU share under the CPU clock", () => {
    const row = (extra: object) => /\| budget clock \| (.*) \|/.exec(renderCheck(experiment(3), measurement("h3", "t3", 0.99), null, { ...result, ...extra }, "").summary)?.[1];
    expect(row({ budget_clock: "cpu", cpu_share: 0.93 })).toBe("CPU time, CPU share 0.93");
    expect(row({ budget_clock: "cpu", cpu_share: 0.31 })).toBe("CPU time, CPU share 0.31 (heavy contention)");
    expect(row({ budget_clock: "wall", cpu_share: null })).toBe("wall time");
    expect(row({})).toBe("n/a");
  });

  it("reports a baseline run without a decision, and a lost result with its reason", () => {
    const baseline = renderCheck(experiment(1, { kind: "baseline" }), measurement("b1", "t0", 1.0), null, result, "Recorded as a baseline run.");
    expect(baseline).toMatchObject({ conclusion: "neutral", title: "val_bpb 1.000000: baseline" });
    const lost = measurement("h4", "t4", null, { reason: "the workflow run uploaded no `autoresearch-result` artifact" });
    const crash = renderCheck(experiment(4), lost, judged([], [1], undefined, "crash: no result"), null, "Closed as crashed.");
    expect(crash).toMatchObject({ conclusion: "failure", title: "crash: crashed" });
    expect(crash.summary).toContain("Reason: the workflow run uploaded no `autoresearch-result` artifact");
  });
});
