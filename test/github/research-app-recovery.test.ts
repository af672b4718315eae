import { afterEach, describe, expect, it } from "vitest";
import { readMarker } from "../../src/github/marker.ts";
import { LOCK_LEASE_MS } from "../../src/github/repo-lock.ts";
import { MutationAgent } from "../../src/research/mutation-agent.ts";
import { researchFiles } from "../research/fixtures.ts";
import { AppHarness, type RunOutcome } from "./app-harness.ts";
import { QUICK_NOISE } from "./list-agent.ts";
import { waiting } from "./scripted-runner.ts";

const config = `concurrency: 2\n${QUICK_NOISE}`;

// One fake GitHub at a time intercepts the API.
let current: AppHarness | undefined;
afterEach(() => current?.close());

/**
 * A step that reads one run and acts on it: `setup` brings a new repository to the moment
 * before (two baselines measured, two experiments in flight), then the run of the first
 * waiting experiment finishes with `outcome`.
 */
interface Scenario {
  name: string;
  setup: (h: AppHarness) => Promise<void>;
  outcome: RunOutcome;
}

const baselines = async (h: AppHarness) => {
  await h.research.tick();
  for (const val_bpb of [1.0, 1.002]) await h.finish(waiting(h)[0]!.number, { val_bpb });
};

const scenarios: Scenario[] = [
  { name: "a regression, closed", setup: baselines, outcome: { val_bpb: 1.01 } },
  { name: "a gain, merged", setup: baselines, outcome: { val_bpb: 0.99 } },
  { name: "a gain within the noise, re-run", setup: baselines, outcome: { val_bpb: 1.0005 } },
  {
    name: "a gain on a stale parent, updated onto the new head",
    setup: async (h) => {
      await baselines(h);
      await h.finish(waiting(h)[0]!.number, { val_bpb: 0.99 });
    },
    outcome: { val_bpb: 0.985 },
  },
];

/** What people see of a pull request, and how often the app recorded its runs. */
function seen(h: AppHarness, number: number) {
  const issue = h.fake.issues.get(number)!;
  const marker = readMarker("experiment", issue.body) as { measurements: Array<{ sha: string }> };
  const shas = marker.measurements.map((m) => m.sha);
  return {
    state: issue.state,
    merged: issue.pull!.merged,
    labels: [...issue.labels].sort(),
    comments: h.fake.comments.filter((c) => c.issue === number).map((c) => c.body),
    checks: h.fake.checkRuns.filter((c) => shas.includes(c.headSha)).map((c) => `${c.conclusion}: ${c.title}`),
    measurements: shas.length,
  };
}

/** Plays a scenario on a new repository; `fail` makes one request of the step answer 500. Returns the pull request and the step's requests. */
async function play(scenario: Scenario, fail?: { index: number; when: "before" | "after" }) {
  current?.close();
  const h = new AppHarness({ ...researchFiles(), ".github/autoresearch.yml": config }, () => new MutationAgent(3), { root: null });
  current = h;
  await scenario.setup(h);
  const number = waiting(h)[0]!.number;
  const first = h.fake.requests.length;
  if (fail) h.fake.failures.set(first + fail.index, fail.when);
  const step = h.finish(number, scenario.outcome);
  if (fail) await expect(step).rejects.toThrow(/Injected failure/);
  else await step;
  return { h, number, requests: h.fake.requests.slice(first) };
}

/** Every check on its own commit: nothing shown twice. */
const checkedOnce = (h: AppHarness, where?: string) => {
  const shas = h.fake.checkRuns.map((c) => c.headSha);
  expect(shas.length, where).toBe(new Set(shas).size);
};

describe("ResearchApp after a step that fails", () => {
  it.each(scenarios)("finishes $name at the next sweep, whichever request failed, and shows nothing twice", async (scenario) => {
    const reference = await play(scenario);
    const expected = seen(reference.h, reference.number);
    const inFlight = waiting(reference.h).length;
    expect(expected.checks).not.toEqual([]);

    for (const [index, { operationId, method }] of reference.requests.entries()) {
      // A failed read leaves GitHub and the app as a failure of the next write before GitHub does it.
      if (method === "GET") continue;
      for (const when of ["before", "after"] as const) {
        const { h, number } = await play(scenario, { index, when });
        // One of the two failures of each request kills the process: a new one takes over once the lease runs out.
        if ((index + Number(when === "after")) % 2 === 1) {
          h.restart();
          h.now = new Date(h.now.getTime() + LOCK_LEASE_MS);
        }
        await h.research.tick();
        const where = `${operationId} (request ${index} of the step) failing ${when} GitHub did it`;
        expect(seen(h, number), where).toEqual(expected);
        expect(waiting(h).length, where).toBe(inFlight);
        checkedOnce(h, where);
        expect(h.fake.invalid, where).toEqual([]);
      }
    }
  }, 300_000); // Dozens of plays of a step: minutes when the machine is shared.

  it("shows a run's check at the next webhook when the step failed right after recording the run", async () => {
    const [regression] = scenarios;
    const index = (await play(regression!)).requests.findIndex((r) => r.operationId === "checks/create");
    const { h, number } = await play(regression!, { index, when: "before" });
    // Recorded and closed, but neither its check nor its comment shown.
    expect(seen(h, number)).toMatchObject({ state: "closed", measurements: 1, checks: [], comments: [] });

    await h.finish(waiting(h)[0]!.number, { val_bpb: 1.02 });
    expect(seen(h, number)).toMatchObject({ checks: ["failure: val_bpb 1.010000 (+0.009000): regressed"], measurements: 1 });
    expect(seen(h, number).comments).toHaveLength(1);
    checkedOnce(h);
  });

  it("reads a run again at the next webhook when the step failed before writing it", async () => {
    const [regression] = scenarios;
    const index = (await play(regression!)).requests.findIndex((r) => r.operationId === "issues/update");
    const { h, number } = await play(regression!, { index, when: "before" });
    expect(seen(h, number)).toMatchObject({ state: "open", measurements: 0, checks: [] });

    await h.finish(waiting(h).find((p) => p.number !== number)!.number, { val_bpb: 1.02 });
    expect(seen(h, number)).toMatchObject({ state: "closed", checks: ["failure: val_bpb 1.010000 (+0.009000): regressed"], measurements: 1 });
    expect(seen(h, number).comments).toHaveLength(1);
    checkedOnce(h);
  });
});
