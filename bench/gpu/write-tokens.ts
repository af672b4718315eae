/**
 * Writes the benchmark token file from the prepared tokenizer and our packing dataloader.
 *
 *   AUTORESEARCH_DATA=DIR npx tsx bench/gpu/write-tokens.ts --out FILE [--train-tokens N] [--val-rows R]
 *
 * Run `npx tsx prepare.ts --source DIR` first. The rows are exactly what train.ts would see.
 */
import { parseArgs } from "node:util";
import { MAX_SEQ_LEN, VOCAB_SIZE, loadTokenizer, makeDataloader, type Tokenizer } from "../../prepare.ts";
import { writeTokenFile } from "./token-file.ts";

const { values } = parseArgs({
  options: { out: { type: "string" }, "train-tokens": { type: "string", default: "8000000" }, "val-rows": { type: "string", default: "64" } },
  strict: false,
});
const out = values.out;
if (typeof out !== "string") throw new Error("Expected `--out FILE`");
const T = MAX_SEQ_LEN, ROWS_PER_BATCH = 64;

/** `count` rows of T + 1 tokens from a split, rebuilt from the loader's inputs and targets. */
async function rows(tokenizer: Tokenizer, split: "train" | "val", count: number): Promise<Uint16Array> {
  const out = new Uint16Array(count * (T + 1));
  let r = 0;
  for await (const { inputs, targets } of makeDataloader(tokenizer, ROWS_PER_BATCH, T, split)) {
    for (let b = 0; b < ROWS_PER_BATCH && r < count; b++, r++) {
      out.set(inputs.subarray(b * T, (b + 1) * T), r * (T + 1));
      out[r * (T + 1) + T] = targets[(b + 1) * T - 1];
    }
    if (r === count) return out;
  }
  throw new Error(`Expected ${count} ${split} rows, the ${split} data gave ${r}`);
}

const trainRows = Math.ceil(Number(values["train-tokens"]) / T / ROWS_PER_BATCH) * ROWS_PER_BATCH;
const valRows = Number(values["val-rows"]);
const tokenizer = await loadTokenizer();
writeTokenFile(out, { vocab: VOCAB_SIZE, seqLen: T, tokenBytes: tokenizer.tokenBytes, train: await rows(tokenizer, "train", trainRows),
  val: await rows(tokenizer, "val", valRows) });
console.log(`wrote ${out}: ${trainRows} train rows and ${valRows} val rows of ${T + 1} tokens, vocab ${VOCAB_SIZE}`);
