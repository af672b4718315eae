import { describe, expect, it } from "vitest";
import { experimentFromIssue, outboxFromIssue, renderExperimentBody, type IssueSnapshot } from "../../src/github/experiment-body.ts";
import { experiment, judged, measurement } from "../research/make-experiment.ts";

const snapshot = (body: string, extra: Partial<IssueSnapshot> = {}): IssueSnapshot => ({
  number: 7, title: "Experiment 3: Depth 10", body, state: "open", labels: ["autoresearch"], isPullRequest: true, merged: false, updatedAt: "2025-01-15T22:00:00Z", ...extra,
});

describe("experiment bodies", () => {
  const decision = judged([0.99], [1, 1.002], [0.99, 0.99]);
  const e = experiment(3, { decision, outcome: "improved", measurements: [measurement("h3", "t3", 0.99)], tokens: 1234, agent: "openai:gpt-4.1" });

  it("shows the hypothesis, the parent, the agent, the status and the runs", () => {
    const body = renderExperimentBody(e, "main");
    expect(body).toContain("**Hypothesis.** Hypothesis 3");
    expect(body).toContain("- Parent: `p0` of `main`");
    expect(body).toContain("- Proposed by: openai:gpt-4.1 (1234 LLM tokens)");
    expect(body).toContain("- Status: improved val_bpb by 0.011000");
    expect(body).toContain("| `h3` | 42 | ok | 0.990000 | 1000 |");
  });

  it("round-trips the experiment, taking its state and hold from the pull request", () => {
    const body = renderExperimentBody(e, "main");
    expect(experimentFromIssue(snapshot(body))).toEqual(e);
    expect(experimentFromIssue(snapshot(body, { state: "closed", merged: true }))!.state).toBe("merged");
    expect(experimentFromIssue(snapshot(body, { labels: ["autoresearch", "autoresearch:hold"] }))!.held).toBe(true);
  });

  it("keeps an outbox in the marker, apart from the experiment", () => {
    const outbox = { step: 4, checks: [{ sha: "h3", conclusion: "success" as const, title: "val_bpb 0.990000", summary: "**Next.** Merging -- soon." }], comment: null, deleteBranch: false, merging: true };
    const body = renderExperimentBody(e, "main", outbox);
    expect(experimentFromIssue(snapshot(body))).toEqual(e);
    expect(outboxFromIssue(snapshot(body))).toEqual(outbox);
    expect(outboxFromIssue(snapshot(renderExperimentBody(e, "main")))).toBeNull();
    expect(outboxFromIssue(snapshot(body, { isPullRequest: false }))).toBeNull();
  });

  it("ignores issues, bodies without a marker and markers that lack the essentials", () => {
    const body = renderExperimentBody(e, "main");
    expect(experimentFromIssue(snapshot(body, { isPullRequest: false }))).toBeNull();
    expect(experimentFromIssue(snapshot("A human pull request."))).toBeNull();
    expect(experimentFromIssue(snapshot('<!-- autoresearch:experiment {"branch":"x","n":1} -->'))).toBeNull();
  });
});
