import { describe, expect, it } from "vitest";
import { checkedControls, readDashboard, renderDashboard } from "../../src/github/dashboard.ts";

const state = { epoch: 2, paused: { by: "alice", at: "2025-01-15T23:00:00.000Z" }, spent: { night: "2025-01-15T00:00:00.000Z", tokens: 5 }, failures: ["LLM down"], published: 7, ignored: ["#3 is locked."] };

describe("dashboard", () => {
  const body = renderDashboard({ state, branch: "research", report: "## Status\n\n**Paused**: paused by @alice.", configErrors: ["Expected `concurrency` to be an integer from 1 to 64, got `0`"] });

  it("renders the report, the problems, unticked controls, and keeps its state hidden", () => {
    expect(body).toContain("Autonomous research on `research`.");
    expect(body).toContain("## Configuration errors");
    expect(body).toContain("- Expected `concurrency` to be an integer from 1 to 64, got `0`");
    expect(body).toContain("## Last proposal failed\n\n- LLM down");
    expect(body).toContain("## Ignored\n\nWhat the app did not read or could not show, oldest first:\n\n- #3 is locked.");
    expect(body).toContain("- [ ] Pause the research loop\n- [ ] Resume the research loop\n- [ ] Re-baseline: measure the noise and the head again");
    expect(readDashboard(body)).toEqual(state);
    expect(checkedControls(body)).toEqual([]);
  });

  it("reads ticked controls, in either case of x", () => {
    const ticked = body.replace("- [ ] Pause", "- [x] Pause").replace("- [ ] Re-baseline", "* [X] Re-baseline");
    expect(checkedControls(ticked)).toEqual(["pause", "rebaseline"]);
  });

  it("starts from epoch 0, running, with nothing spent", () => {
    expect(readDashboard(undefined)).toEqual({ epoch: 0, paused: null, spent: { night: "", tokens: 0 }, failures: [], published: 0, ignored: [] });
  });
});
