/**
 * Stands in for prepare.ts when bench/gpu/bundle.ts builds train.ts for a benchmark: the same
 * exports, but the tokens come from the token file (AR_TOKENS) that the PyTorch side reads too,
 * the budget from AR_BENCH_SECONDS, and every step is timed. train.ts itself runs unchanged.
 *
 * AR_BENCH_STEPS > 0 stops after that many steps; otherwise the run ends at the time budget and
 * evaluates val_bpb on the file's validation rows. Either way the last line is a JSON object.
 * AR_PROFILE_STEPS > 0 prints an op table for that many steps after the first three (op-profile.ts);
 * give that run its own AR_BENCH_STEPS, since the profiled steps are slower.
 * When train.ts starts importing something else from prepare.ts, bundle.ts fails naming it: add it here.
 */
import { backend, memoryStats, peakBf16Flops } from "../../src/engine/index.ts";
import { evaluateBpb as evaluateLossFnBpb } from "../../src/data/evaluate-bpb.ts";
import { trainingClock } from "../../src/data/training-clock.ts";
import { modelLossFn, type LossModel } from "../../src/data/model-bpb.ts";
import type { Batch } from "../../src/data/packed-batches.ts";
import { formatSummary, type RunSummary } from "../../src/data/run-report.ts";
import type { Tokenizer } from "../../src/data/tokenizer.ts";
import { opProfiler } from "./op-profile.ts";
import { readTokenFile, tokenBatches } from "./token-file.ts";
import { summarizeSteps, type StepRecord } from "./summarize-steps.ts";

const file = process.env.AR_TOKENS;
if (!file) throw new Error("Expected AR_TOKENS to name the benchmark token file (bench/gpu/write-tokens.ts writes it)");
const tokens = readTokenFile(file);
const stopAfter = Number(process.env.AR_BENCH_STEPS ?? 0);
const launchedAt = Number(process.env.AR_BENCH_LAUNCHED_AT ?? performance.timeOrigin);

export const MAX_SEQ_LEN = tokens.seqLen;
export const VOCAB_SIZE = tokens.vocab;
export const TIME_BUDGET = Number(process.env.AR_BENCH_SECONDS ?? 300);
export const SEED = Number(process.env.AUTORESEARCH_SEED ?? 42);

const profile = opProfiler(backend().backend, 3, Number(process.env.AR_PROFILE_STEPS ?? 0));
let figures: Record<string, number> = {};
let rowsServed = 0;
const steps: StepRecord[] = [];

/** The token file has no tokenizer; train.ts only passes this on to makeDataloader. */
export async function loadTokenizer(): Promise<Tokenizer> {
  return null as unknown as Tokenizer;
}

export async function* makeDataloader(_tokenizer: Tokenizer, B: number, T: number, split: "train" | "val"): AsyncGenerator<Batch> {
  if (T !== tokens.seqLen) throw new Error(`Expected T = ${tokens.seqLen} (the token file's), got ${T}`);
  for (const batch of tokenBatches(split === "train" ? tokens.train : tokens.val, T, B, split === "train")) {
    rowsServed += B;
    yield batch;
  }
}

/** The budget clock train.ts's loop reads: wall time from the end of the first step, as the GPU profile's. */
export const trainingTime: () => number = trainingClock("wall", undefined, () => backend().threads);

/** val_bpb over the file's validation rows (as many whole batches of up to B rows as they fill). */
export async function evaluateBpb(model: LossModel, batchSize: number): Promise<number> {
  const valRows = tokens.val.length / (tokens.seqLen + 1), rows = Math.min(batchSize, valRows);
  return evaluateLossFnBpb(modelLossFn(model), {
    tokenBytes: tokens.tokenBytes, batchSize: rows, seqLen: tokens.seqLen, evalTokens: Math.floor(valRows / rows) * rows * tokens.seqLen,
    valLoader: (async function* () { yield* tokenBatches(tokens.val, tokens.seqLen, rows, false); })(),
  });
}

/** Called once per optimizer step, after the step's synchronize: the step clock. */
export function logProgress(line: string): void {
  steps.push({ at: performance.now(), tokens: rowsServed * tokens.seqLen });
  rowsServed = 0;
  process.stdout.write(`${line}\n`);
  profile(steps.length);
  if (stopAfter > 0 && steps.length >= stopAfter) {
    printResults(null);
    process.exit(0);
  }
}

/** train.ts hands over its figures here (FLOPs per token, parameters); the benchmark keeps going. */
export function dryRunExit(f: Record<string, number>): void {
  figures = f;
}

export async function reportResults(summary: RunSummary): Promise<void> {
  console.log(formatSummary(summary));
  printResults(summary.val_bpb);
}

function printResults(valBpb: number | null): void {
  const info = backend();
  const result = summarizeSteps(steps, {
    impl: process.env.AR_BENCH_LABEL ?? "autoresearch",
    device: info.device,
    launchedAt,
    flopsPerToken: figures.flops_per_token,
    peakFlops: peakBf16Flops(info.device),
    peakVramMb: memoryStats(info.backend).peakBytes / 2 ** 20,
    valBpb,
  });
  console.log(JSON.stringify(result));
}
