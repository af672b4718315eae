import { describe, expect, it } from "vitest";
import { judge, type JudgeRule } from "../../src/research/judge.ts";
import { decisionHeadline, decisionRule, renderDecision } from "../../src/research/render-decision.ts";
import { measurement } from "./make-experiment.ts";

const rule: JudgeRule = { maxRuns: 3, alpha: 0.07, futility: 1, confirmRuns: 2 };
const parent = [0.999, 1.001, 0.9995, 1.0005];
const at = (candidate: number[], confirmation?: number[]) => judge({ candidate, confirmation, parent, sigma: 0.001, freedom: 2, rule });

describe("renderDecision", () => {
  it("states the fresh and the test numbers, the rule with its bound, and the decision", () => {
    expect(renderDecision(at([0.992], [0.995, 0.997]))).toBe(
      [
        "**Decision: improved** (improved val_bpb by 0.004000 (measured fresh on 2 runs))",
        "",
        "| | val_bpb | runs | delta |",
        "|---|---:|---:|---:|",
        "| parent (fresh runs) | 1.000000 | 4 | |",
        "| this change, test runs | 0.992000 | 1 | −0.008000 |",
        "| this change, fresh runs | 0.996000 | 2 | −0.004000 |",
        "",
        "**Rule.** The noise of one run, σ = 0.001000, is pooled over every code measured twice or more (2 degrees of freedom), " +
          "so the test delta has standard error σ·√(1/1 + 1/4) = 0.001118 and t = −7.155. At look 1 of 3 the change passes when t ≤ −3.320, " +
          "Student's t quantile of α = 0.0400 (the looks together spend at most the configured α), a test delta of −0.003712. " +
          "Before the last look, t above −1 closes the change (no more runs). A change that passes runs 2 more times; those fresh runs, " +
          "not the ones that won, give the reported delta and the new head's value, and it merges only if they show a gain too.",
      ].join("\n"),
    );
  });

  it("sums up the test in one line for a squash commit, naming where the delta comes from", () => {
    expect(decisionRule(at([0.992], [0.995, 0.997]))).toBe(
      "delta measured fresh on 2 runs after the test passed, against 4 runs of the parent; " +
        "test: t = −7.16 against −3.32 (Student's t, 2 df, α 0.040 at look 1 of 3), σ 0.001000.",
    );
  });

  it("shows a crash with its log excerpt", () => {
    const decision = judge({ candidate: [], parent: [1], sigma: 0.001, freedom: 2, rule, crash: "crash: RuntimeError: boom" });
    expect(renderDecision(decision, measurement("h", "t", null))).toBe(
      "**Decision: crashed** (crashed)\n\nThe run did not finish: crash: RuntimeError: boom\n\n```\nRuntimeError: boom\n```\n\nParent val_bpb: 1.000000 over 1 run.",
    );
  });

  it("sums up each outcome in a headline", () => {
    expect(decisionHeadline(at([1.001]))).toBe("no gain (delta +0.001000)");
    expect(decisionHeadline(at([0.9995]))).toBe("inconclusive after 1 run");
    expect(decisionHeadline(at([0.998]))).toBe("promising after 1 run, re-running with another seed");
    expect(decisionHeadline(at([0.992]))).toBe("passed the test after 1 run, confirming with fresh runs");
    expect(decisionHeadline(at([0.992], [1.0, 1.002]))).toBe("passed the test, but 2 runs measured fresh showed no gain (delta +0.001000)");
    expect(decisionHeadline(judge({ candidate: [0.992], parent, sigma: 0.001, freedom: 2, rule: { ...rule, confirmRuns: 0 } }))).toBe(
      "improved val_bpb by 0.008000 (on the 1 run that passed the test)",
    );
  });
});
