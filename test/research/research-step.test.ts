import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AgentError, type Agent, type ResearchFiles } from "../../src/research/agent.ts";
import { latestMeasurement } from "../../src/research/experiment.ts";
import { Ledger } from "../../src/research/ledger.ts";
import { MutationAgent } from "../../src/research/mutation-agent.ts";
import type { PlanSettings } from "../../src/research/plan.ts";
import { readHyperparameters } from "../../src/runner/read-hyperparameters.ts";
import { DEFAULT_CONFIG } from "../../src/research/research-config.ts";
import { researchStep } from "../../src/research/research-step.ts";
import { FIXTURE_ROOT, researchFiles } from "./fixtures.ts";
import { MemoryForge } from "./memory-forge.ts";

const settings: PlanSettings = { ...DEFAULT_CONFIG.noise, concurrency: 3, baselineRuns: 3 };

/** A pretend trainer: val_bpb is best at MATRIX_LR 0.06 and DEPTH 10, depth 12+ runs out of memory, and each seed adds noise. */
function trueValue(files: ResearchFiles): number | null {
  const p = Object.fromEntries(readHyperparameters(files["train.ts"]).map((h) => [h.name, h.value]));
  if ((p.DEPTH as number) >= 12) return null;
  return 1 + 0.02 * Math.log((p.MATRIX_LR as number) / 0.06) ** 2 + 0.002 * ((p.DEPTH as number) - 10) ** 2;
}
function trainer(files: ResearchFiles, seed: number): number | null {
  const value = trueValue(files);
  const u = createHash("sha1").update(`${seed}:${files["train.ts"]}`).digest().readUInt32BE(0) / 2 ** 32;
  return value === null ? null : value + (u - 0.5) * 0.001;
}

describe("researchStep", () => {
  it("runs a night of 30 offline experiments at concurrency 3 and only ever keeps real gains", async () => {
    const forge = new MemoryForge(researchFiles());
    const agent = new MutationAgent(5);
    const start = trueValue(researchFiles())!;
    for (let step = 0; step < 200; step++) {
      const made = forge.experiments.filter((e) => e.kind === "experiment").length;
      const report = await researchStep(forge, { agent, settings, gate: { open: made < 30, experimentsLeft: 30 - made }, root: FIXTURE_ROOT });
      expect(report.failures).toEqual([]);
      const running = forge.experiments.filter((e) => e.state === "open" && latestMeasurement(e) === undefined);
      expect(running.length).toBeLessThanOrEqual(settings.concurrency);
      if (forge.train(trainer) === 0 && forge.experiments.every((e) => e.state !== "open")) break;
    }

    const experiments = forge.experiments.filter((e) => e.kind === "experiment");
    expect(experiments).toHaveLength(30);
    expect(experiments.every((e) => e.state !== "open" && e.outcome !== null)).toBe(true);
    expect(new Set(experiments.map((e) => e.fingerprint)).size).toBe(30);
    const merged = experiments.filter((e) => e.state === "merged");
    expect(merged.length).toBeGreaterThan(0);
    for (const e of merged) {
      expect(e.decision!.testDelta!).toBeLessThanOrEqual(e.decision!.threshold!);
      expect(e.decision!).toMatchObject({ fresh: true, runs: settings.confirmRuns, delta: expect.any(Number) });
      expect(e.decision!.delta!).toBeLessThan(0);
    }
    expect(trueValue(forge.trees.get(forge.head.tree)!)!).toBeLessThan(start);
    // Three baselines at the start; after each merge the 2 confirmation runs and one baseline.
    expect(forge.experiments.filter((e) => e.kind === "baseline")).toHaveLength(3 + merged.length);
    const counts = new Ledger(forge.experiments, 0).counts();
    expect(counts.kept + counts.discarded + counts.crashed + counts.inconclusive).toBe(30);
  });

  it("runs all baseline runs at concurrency 1, one per step, before the first experiment", async () => {
    const forge = new MemoryForge(researchFiles());
    const options = { agent: new MutationAgent(1), settings: { ...settings, concurrency: 1 }, gate: { open: true, experimentsLeft: 10 } };
    for (let step = 0; step < 4; step++) {
      await researchStep(forge, options);
      forge.train(trainer);
    }
    expect(forge.log.filter((line) => line.startsWith("start"))).toEqual(["start 1 baseline", "start 2 baseline", "start 3 baseline", "start 4 experiment"]);
  });

  it("does nothing more when stepped again without news", async () => {
    const forge = new MemoryForge(researchFiles());
    const options = { agent: new MutationAgent(1), settings, gate: { open: true, experimentsLeft: 10 } };
    await researchStep(forge, options);
    const log = [...forge.log];
    expect(log).toEqual(["start 1 baseline", "start 2 baseline", "start 3 baseline"]);
    expect((await researchStep(forge, options)).actions).toEqual([]);
    expect(forge.log).toEqual(log);
  });

  it("reports proposals that fail, with their tokens, and starts nothing", async () => {
    const forge = new MemoryForge(researchFiles());
    await researchStep(forge, { agent: new MutationAgent(1), settings: { ...settings, concurrency: 3 }, gate: { open: true, experimentsLeft: 10 } });
    forge.train(trainer);
    const failing: Agent = { name: "broken", propose: async () => { throw new AgentError("LLM down", 42); } };
    const report = await researchStep(forge, { agent: failing, settings, gate: { open: true, experimentsLeft: 10 } });
    expect(report.failures).toEqual([
      { errors: ["LLM down"], tokens: 42 },
      { errors: ["LLM down"], tokens: 42 },
      { errors: ["LLM down"], tokens: 42 },
    ]);
    expect(report.failedTokens).toBe(126);
    expect(forge.experiments.filter((e) => e.kind === "experiment")).toEqual([]);
  });
});
