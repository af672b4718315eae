import { describe, expect, it } from "vitest";
import { decisionRule } from "../../src/research/render-decision.ts";
import { squashMessage } from "../../src/research/squash-message.ts";
import { experiment, judged } from "./make-experiment.ts";

describe("squashMessage", () => {
  it("titles the merge with the metric and the reference, and carries the rule and the trailers", () => {
    const decision = judged([0.98, 0.981], [0.99, 0.991], [0.982, 0.983]);
    const e = experiment(7, { title: "Deeper model", hypothesis: "More layers fit in the budget.", seed: 43 });
    const metric = "val_bpb 0.982500 (−0.008000 vs 0.990500)";
    expect(squashMessage(e, decision, "#12")).toEqual({
      title: `Deeper model: ${metric} (#12)`,
      body: `More layers fit in the budget.\n\n${metric}; ${decisionRule(decision)}\n\nAutoresearch-Experiment: 7\nAutoresearch-Seed: 43`,
    });
    expect(squashMessage(e, decision, "autoresearch/night/7").title).toBe(`Deeper model: ${metric} (autoresearch/night/7)`);
  });
});
