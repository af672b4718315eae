import { describe, expect, it } from "vitest";
import { judge } from "../../src/research/judge.ts";
import { decisionHeadline, renderDecision } from "../../src/research/render-decision.ts";
import { measurement } from "./make-experiment.ts";

describe("renderDecision", () => {
  it("states the numbers, the rule with its threshold, and the decision", () => {
    const decision = judge({ candidate: [0.995], parent: [0.998, 0.997, 0.999], sigma: 0.001, k: 2, maxRuns: 3 });
    expect(renderDecision(decision)).toBe(
      [
        "**Decision: improved** (improved val_bpb by 0.003000)",
        "",
        "| | val_bpb | runs |",
        "|---|---:|---:|",
        "| parent | 0.998000 | 3 |",
        "| this change | 0.995000 | 1 |",
        "| delta | −0.003000 | |",
        "",
        "**Rule.** With run-to-run noise σ = 0.001000, the difference of the means has noise σ·√(1/1 + 1/3) = 0.001155. " +
          "Improved when delta ≤ −2 × 0.001155 = −0.002309; regressed when delta ≥ 0; otherwise inconclusive, re-run with another seed up to 3 runs.",
      ].join("\n"),
    );
  });

  it("shows a crash with its log excerpt", () => {
    const decision = judge({ candidate: [], parent: [1], sigma: 0.001, k: 2, maxRuns: 3, crash: "crash: RuntimeError: boom" });
    expect(renderDecision(decision, measurement("h", "t", null))).toBe(
      "**Decision: crashed** (crashed)\n\nThe run did not finish: crash: RuntimeError: boom\n\n```\nRuntimeError: boom\n```\n\nParent val_bpb: 1.000000 over 1 run(s).",
    );
  });

  it("sums up each outcome in a headline", () => {
    const at = (candidate: number[]) => judge({ candidate, parent: [1], sigma: 0.001, k: 2, maxRuns: 2 });
    expect(decisionHeadline(at([1.001]))).toBe("no gain (delta +0.001000)");
    expect(decisionHeadline(at([0.9995]))).toBe("inconclusive after 1 run(s), re-running with another seed");
    expect(decisionHeadline(at([0.9995, 0.9995]))).toBe("inconclusive after 2 runs");
  });
});
