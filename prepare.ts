/**
 * prepare.ts: the fixed half of every experiment. The constants, the data, the tokenizer,
 * the dataloader and the metric that every experiment is judged by. The agent never edits it.
 *
 * As a library (what train.ts imports): the profile's constants, `loadTokenizer`,
 * `makeDataloader`, `tokenBytes`, the metric and the budget clock (`trainingTime`).
 * As a script: download or generate the shards and train the tokenizer.
 *
 *   npx tsx prepare.ts [--profile default|cpu|test] [--source DIR|URL] [--num-shards N] [--cache-dir DIR]
 *
 * The profile comes from `--profile` or AUTORESEARCH_PROFILE; the data from `--source` or
 * AUTORESEARCH_DATA (a directory of .parquet/.txt shards, or a climbmix mirror URL); the cache
 * from `--cache-dir` or AUTORESEARCH_CACHE_DIR (default ~/.cache/autoresearch).
 */
import { parseArgs } from "node:util";
import { sharedEncoder } from "./src/data/encode-pool.ts";
import { evaluateBpb as evaluateLossFnBpb, type TokenLossFn } from "./src/data/evaluate-bpb.ts";
import { listShards } from "./src/data/list-shards.ts";
import { packedBatches, type Batch } from "./src/data/packed-batches.ts";
import { prepareData } from "./src/data/prepare-data.ts";
import { describeOverrides, selectProfile } from "./src/data/profiles.ts";
import { resolveDataLayout } from "./src/data/resolve-data-layout.ts";
import { Tokenizer } from "./src/data/tokenizer.ts";
import { loadTokenizer as loadTokenizerFrom } from "./src/data/tokenizer-files.ts";

export { SPLIT_PATTERN } from "./src/data/split-pattern.ts";
export { BOS_TOKEN, SPECIAL_TOKENS, Tokenizer } from "./src/data/tokenizer.ts";
export type { Batch, TokenLossFn };

const argv = process.argv.slice(2);

/** The active profile (never silent: a non-default one prints what it overrides). */
export const PROFILE = selectProfile(argv, process.env);
export const PROFILE_NAME = PROFILE.name;
const overrides = describeOverrides(PROFILE);
if (overrides) console.log(overrides);

/** Context length; the metric is always computed at this length. */
export const MAX_SEQ_LEN = PROFILE.MAX_SEQ_LEN;
/** Training time budget in seconds. */
export const TIME_BUDGET = PROFILE.TIME_BUDGET;
/** Validation tokens the metric is computed over. */
export const EVAL_TOKENS = PROFILE.EVAL_TOKENS;
/** Vocabulary size, special tokens included. */
export const VOCAB_SIZE = PROFILE.VOCAB_SIZE;

const layout = resolveDataLayout(PROFILE, argv, process.env);

/** Fail with the command that would have prepared what is missing. */
function notPrepared(error: unknown): never {
  throw new Error(`${(error as Error).message}. Run \`${layout.prepareCommand}\` first.`, { cause: error });
}

/** The tokenizer that prepare trained for this profile and data. */
export async function loadTokenizer(): Promise<Tokenizer> {
  return loadTokenizerFrom(layout.tokenizerDir, VOCAB_SIZE).catch(notPrepared);
}

/** UTF-8 byte length of every token id, 0 for special tokens (the metric's denominator). */
export async function tokenBytes(tokenizer?: Tokenizer): Promise<Int32Array> {
  return (tokenizer ?? (await loadTokenizer())).tokenBytes;
}

/**
 * Batches of `B` rows of `T` tokens, BOS-aligned and best-fit packed. "train" loops over the
 * training shards forever; "val" makes one pass over the pinned validation shard.
 */
export async function* makeDataloader(tokenizer: Tokenizer, B: number, T: number, split: "train" | "val"): AsyncGenerator<Batch> {
  if (split !== "train" && split !== "val") throw new Error(`Expected \`split\` to be "train" or "val", got \`${split}\``);
  if (split === "val" && RUN_MODE) throw new Error(VALIDATION_WITHHELD);
  const shards = await listShards(layout.shardDir).catch(notPrepared);
  // Documents are encoded on worker threads (one per core, up to 8), a batch ahead of packing.
  const encoder = await sharedEncoder(tokenizer);
  yield* packedBatches(split === "train" ? shards.train : [shards.val], encoder, B, T, { loop: split === "train" });
}

/**
 * val_bpb from a per-token loss function (nats, reduction "none"), over EVAL_TOKENS of the
 * validation shard at MAX_SEQ_LEN.
 */
export async function evaluateLossBpb(lossFn: TokenLossFn, batchSize: number, tokenizer?: Tokenizer): Promise<number> {
  const tok = tokenizer ?? (await loadTokenizer());
  return evaluateLossFnBpb(lossFn, {
    tokenBytes: tok.tokenBytes,
    batchSize,
    seqLen: MAX_SEQ_LEN,
    evalTokens: EVAL_TOKENS,
    valLoader: makeDataloader(tok, batchSize, MAX_SEQ_LEN, "val"),
  });
}

// ---------------------------------------------------------------------------
// What train.ts hands its model and figures to (the only part that touches the engine)
// ---------------------------------------------------------------------------
import { modelLossFn, type LossModel } from "./src/data/model-bpb.ts";
import { reportRun, type RunSummary } from "./src/data/run-report.ts";
import { writeProgress } from "./src/data/progress-line.ts";
import { readFlag } from "./src/data/profiles.ts";
import { exportTrace } from "./src/data/trace-export.ts";
import { BUDGET_FILE_ENV } from "./src/data/budget-reading.ts";
import { trainingClock } from "./src/data/training-clock.ts";
import { isMainModule } from "./src/data/is-main-module.ts";
import { backend } from "./src/engine/index.ts";

export type { LossModel, RunSummary };

/**
 * Run mode: the runner sets AUTORESEARCH_RUN_MODE=train while train.ts runs. Its data view then
 * holds the training shards and the tokenizer only, and evaluateBpb traces the model into
 * AUTORESEARCH_TRACE_DIR; the runner's evaluator computes val_bpb from that trace, later, in
 * another process.
 */
const RUN_MODE = process.env.AUTORESEARCH_RUN_MODE ?? null;
const TRACE_DIR = process.env.AUTORESEARCH_TRACE_DIR;
if (RUN_MODE !== null && RUN_MODE !== "train") throw new Error(`Expected AUTORESEARCH_RUN_MODE to be \`train\` or unset, got \`${RUN_MODE}\``);
if (RUN_MODE && !TRACE_DIR) throw new Error("Expected AUTORESEARCH_TRACE_DIR to name a directory in run mode, got nothing");
const VALIDATION_WITHHELD =
  "makeDataloader: the validation shard is not available while training (the runner evaluates the model handed to evaluateBpb)";

/** The seed of this run: AUTORESEARCH_SEED (the runner sets it from the commit's `Autoresearch-Seed` trailer), else 42. */
export const SEED = Number(process.env.AUTORESEARCH_SEED ?? 42);
if (!Number.isSafeInteger(SEED) || SEED < 0) throw new Error(`Expected AUTORESEARCH_SEED to be an integer >= 0, got \`${process.env.AUTORESEARCH_SEED}\``);

/**
 * val_bpb of `model` (its forward pass with reduction "none"), like the reference's evaluate_bpb.
 * In run mode it traces the forward pass for the runner's evaluator instead and returns NaN.
 */
export async function evaluateBpb(model: LossModel, batchSize: number): Promise<number> {
  if (!RUN_MODE) return evaluateLossBpb(modelLossFn(model), batchSize);
  await exportTrace(model, batchSize, MAX_SEQ_LEN, TRACE_DIR!);
  console.log("evaluateBpb: forward pass traced; the runner's evaluator computes val_bpb on the validation shard");
  return NaN;
}

/**
 * Seconds of TIME_BUDGET used so far, by the harness's clock, not train.ts's: under the runner
 * the runner keeps it (train.ts can read it but not change it, and the runner stops a run that
 * trains past it); alone, prepare.ts keeps the same kind of clock. It starts at the end of the
 * first step. The GPU profile counts wall time, as the reference does; the `cpu` and `test`
 * profiles count the run's CPU time divided by the engine's thread count, which other work on
 * the machine barely moves. See docs/budget-clock.md.
 */
export const trainingTime: () => number = trainingClock(PROFILE.budgetClock, process.env[BUDGET_FILE_ENV], () => backend().threads);

/** Shows one progress line (rewritten in place on a terminal). */
export function logProgress(line: string): void {
  writeProgress(line);
}

/** With `--dry-run`: print the config's figures as JSON and exit before anything is allocated. */
export function dryRunExit(figures: Record<string, number>): void {
  if (!argv.includes("--dry-run")) return;
  console.log(`dry_run: ${JSON.stringify(figures)}`);
  process.exit(0);
}

/**
 * Prints the reference's `---` summary and writes the same figures to `--summary-json` (default
 * result.json). In run mode val_bpb is left out (NaN): only the evaluator's number counts.
 */
export async function reportResults(summary: RunSummary): Promise<void> {
  const figures = { ...summary, budget_clock: PROFILE.budgetClock };
  await reportRun(RUN_MODE ? { ...figures, val_bpb: NaN } : figures, readFlag(argv, "summary-json") ?? "result.json");
}

async function main(): Promise<void> {
  // Strict parsing here only: as a library, argv belongs to the importing script.
  parseArgs({
    args: argv,
    options: { profile: { type: "string" }, source: { type: "string" }, "num-shards": { type: "string" }, "cache-dir": { type: "string" } },
  });
  const started = performance.now();
  const { shards, tokenizer } = await prepareData(PROFILE, layout, { progress: process.stderr });
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s: ${shards.train.length + 1} shards in ${layout.shardDir}, vocab ${tokenizer.vocabSize}`);
}

if (isMainModule(import.meta.url)) {
  await main().catch((error: Error) => {
    console.error(`prepare: ${error.message}`);
    process.exitCode = 1;
  });
}
