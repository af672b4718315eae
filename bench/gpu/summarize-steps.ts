/** Turns per-step timestamps into the figures the GPU benchmark compares: tokens/s, MFU, step time, startup. */

export interface StepRecord {
  /** performance.now() when the step (forward, backward, optimizer, sync) had finished. */
  at: number;
  /** Tokens the step trained on. */
  tokens: number;
}

export interface TrainBenchResult {
  bench: "train";
  impl: string;
  device: string;
  steps: number;
  /** Median over the steps after the warm-up ones. */
  step_ms: number;
  tokens_per_s: number;
  mfu_percent: number | null;
  peak_vram_mb: number;
  /** Process launch to the end of the first step. */
  startup_s: number;
  val_bpb: number | null;
}

/** Steps excluded from the steady state: allocator growth, cuBLASLt heuristics, first-touch. */
export const WARMUP_STEPS = 3;

export function summarizeSteps(
  steps: StepRecord[],
  o: { impl: string; device: string; launchedAt: number; flopsPerToken?: number; peakFlops: number | null; peakVramMb: number; valBpb: number | null },
): TrainBenchResult {
  if (steps.length <= WARMUP_STEPS) throw new Error(`Expected more than ${WARMUP_STEPS} steps to summarize, got ${steps.length}`);
  const origin = performance.timeOrigin;
  const durations = steps.slice(WARMUP_STEPS).map((s, i) => s.at - steps[WARMUP_STEPS - 1 + i].at).sort((a, b) => a - b);
  const stepMs = durations[Math.floor(durations.length / 2)];
  const tokensPerS = steps[steps.length - 1].tokens / (stepMs / 1000);
  return {
    bench: "train",
    impl: o.impl,
    device: o.device,
    steps: steps.length,
    step_ms: stepMs,
    tokens_per_s: tokensPerS,
    mfu_percent: o.flopsPerToken && o.peakFlops ? (100 * o.flopsPerToken * tokensPerS) / o.peakFlops : null,
    peak_vram_mb: o.peakVramMb,
    startup_s: (origin + steps[0].at - o.launchedAt) / 1000,
    val_bpb: o.valBpb,
  };
}
