import { createHash } from "node:crypto";
import { readHyperparameters } from "../../src/runner/read-hyperparameters.ts";
import { seedFromCommitMessage } from "../../src/runner/result.ts";
import type { AppHarness, RunOutcome } from "./app-harness.ts";

/**
 * A pretend GPU: val_bpb is best at MATRIX_LR 0.06, EMBEDDING_LR 0.9, WEIGHT_DECAY 0.1 and
 * DEPTH 10, depth 12 and more runs out of memory, and each seed adds up to ±0.0005 of noise.
 */
export function scriptedTrainer(files: Record<string, string>, seed: number): RunOutcome {
  const p = Object.fromEntries(readHyperparameters(files["train.ts"]!).map((h) => [h.name, h.value]));
  if ((p.DEPTH as number) >= 12) return { val_bpb: null, crash_excerpt: "RuntimeError: CUDA out of memory" };
  const u = createHash("sha1").update(`${seed}:${files["train.ts"]}`).digest().readUInt32BE(0) / 2 ** 32;
  const away = (name: string, best: number) => Math.log((p[name] as number) / best) ** 2;
  const value = 1 + 0.02 * away("MATRIX_LR", 0.06) + 0.01 * away("EMBEDDING_LR", 0.9) + 0.01 * away("WEIGHT_DECAY", 0.1) + 0.002 * ((p.DEPTH as number) - 10) ** 2;
  return { val_bpb: value + (u - 0.5) * 0.001 };
}

/** The pretend GPU's result for a pull request's head, with the seed its commit names. */
export function scriptedRun(h: AppHarness, number: number): RunOutcome {
  const head = h.fake.headOf(number);
  return scriptedTrainer(head.files, seedFromCommitMessage(head.message));
}

/** Pull requests whose head has no finished run yet. */
export function waiting(h: AppHarness) {
  return h.openPulls().filter((p) => ![...h.fake.workflowRuns.values()].some((r) => r.headSha === p.pull!.headSha));
}

/**
 * Finishes every waiting run, one webhook at a time, until nothing waits (or `steps` rounds).
 * The webhooks go to the app processes of `apps` in turn (by default `h` alone).
 */
export async function runUntilIdle(h: AppHarness, trainer = scriptedTrainer, steps = 500, apps = [h]): Promise<void> {
  for (let i = 0; i < steps; i++) {
    const next = waiting(h)[0];
    if (!next) return;
    const head = h.fake.headOf(next.number);
    await apps[i % apps.length]!.finish(next.number, trainer(head.files, seedFromCommitMessage(head.message)));
  }
}
