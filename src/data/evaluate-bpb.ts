import type { Batch } from "./packed-batches.ts";

/**
 * Per-token cross-entropy in nats (reduction "none") for `rows x cols` inputs and targets,
 * row-major. This is all the metric needs of a model.
 */
export type TokenLossFn = (
  inputs: Int32Array,
  targets: Int32Array,
  rows: number,
  cols: number,
) => Float32Array | Float64Array | Promise<Float32Array | Float64Array>;

/** Options for {@link evaluateBpb}. */
export interface EvaluateBpbOptions {
  /** UTF-8 byte length of each token id, 0 for special tokens. */
  tokenBytes: Int32Array;
  /** Rows per batch. */
  batchSize: number;
  /** Tokens per row: the profile's MAX_SEQ_LEN, fixed so every experiment is judged alike. */
  seqLen: number;
  /** Tokens to evaluate: `floor(evalTokens / (batchSize * seqLen))` batches are run. */
  evalTokens: number;
  /** The validation batches, of `batchSize x seqLen` each. */
  valLoader: AsyncIterator<Batch>;
}

/**
 * Validation bits per byte: the summed cross-entropy (nats) over the summed UTF-8 bytes of
 * the target tokens, divided by ln 2. Targets with 0 bytes (special tokens) count in neither
 * sum, so the number does not depend on the vocabulary size. Sums are kept in float64.
 */
export async function evaluateBpb(lossFn: TokenLossFn, options: EvaluateBpbOptions): Promise<number> {
  const { tokenBytes, batchSize, seqLen, evalTokens, valLoader } = options;
  for (const [name, value] of Object.entries({ batchSize, seqLen })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`Expected \`${name}\` to be an integer >= 1, got \`${value}\``);
  }
  const tokensPerBatch = batchSize * seqLen;
  const steps = Math.floor(evalTokens / tokensPerBatch);
  if (!(steps >= 1)) {
    throw new Error(`Expected \`evalTokens\` to be at least batchSize x seqLen = ${tokensPerBatch}, got \`${evalTokens}\``);
  }
  let nats = 0;
  let bytes = 0;
  for (let step = 0; step < steps; step++) {
    const next = await valLoader.next();
    if (next.done) {
      throw new Error(
        `Expected the validation data to fill ${steps} batches of ${batchSize}x${seqLen} tokens (evalTokens ${evalTokens}), got ${step}; use a bigger validation shard or a profile with fewer EVAL_TOKENS`,
      );
    }
    const { inputs, targets } = next.value;
    if (inputs.length !== tokensPerBatch || targets.length !== tokensPerBatch) {
      throw new Error(`Expected validation batches of ${tokensPerBatch} tokens, got ${inputs.length} inputs and ${targets.length} targets`);
    }
    const loss = await lossFn(inputs, targets, batchSize, seqLen);
    if (loss.length !== tokensPerBatch) {
      throw new Error(`Expected the loss function to return ${tokensPerBatch} per-token losses, got ${loss.length}`);
    }
    for (let i = 0; i < tokensPerBatch; i++) {
      const n = tokenBytes[targets[i]];
      if (n > 0) {
        nats += loss[i];
        bytes += n;
      }
    }
  }
  if (bytes === 0) throw new Error("Expected the validation targets to hold at least one byte of text, got only special tokens");
  return nats / (Math.LN2 * bytes);
}
