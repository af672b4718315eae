import { BestFitPacker } from "./best-fit-packer.ts";
import { documentBatches } from "./document-batches.ts";

/** One training or evaluation batch: `rows x seqLen` tokens each, row-major. */
export interface Batch {
  inputs: Int32Array;
  /** `inputs` shifted left by one token: target i is the token after input i. */
  targets: Int32Array;
  /** The pass over the shards that the newest documents came from (1-based). */
  epoch: number;
}

/** What the loader needs of a tokenizer. */
export interface DocumentEncoder {
  readonly bosTokenId: number;
  /** Encode each text with `prepend` as its first token; may run elsewhere (a worker pool). */
  encodeBatch(texts: readonly string[], prepend: number): Int32Array[] | Promise<Int32Array[]>;
}

/** Options for {@link packedBatches}. */
export interface PackedBatchesOptions {
  /** Loop over the shards forever (training) or make one pass and stop (validation). */
  loop: boolean;
  /** Documents kept to choose from; the reference's is 1000. */
  bufferSize?: number;
}

/**
 * Stream batches of BOS-aligned, best-fit packed rows from the documents of `shards`.
 * With `loop` it never ends; without, it ends when the documents run out, dropping the
 * incomplete last batch. There is no randomness: the same shards give the same batches.
 */
export async function* packedBatches(
  shards: readonly string[],
  encoder: DocumentEncoder,
  batchSize: number,
  seqLen: number,
  options: PackedBatchesOptions,
): AsyncGenerator<Batch> {
  const packer = new BestFitPacker(batchSize, seqLen, options.bufferSize);
  const source = documentBatches(shards, { loop: options.loop });
  const fetchNext = async (): Promise<{ epoch: number; docs: Int32Array[] } | undefined> => {
    const next = await source.next();
    if (next.done) return undefined;
    return { epoch: next.value.epoch, docs: await encoder.encodeBatch(next.value.docs, encoder.bosTokenId) };
  };
  // Read and encode one batch of documents ahead, so a worker-pool encoder runs while we pack.
  const prefetch = () => {
    const promise = fetchNext();
    promise.catch(() => {}); // surfaced when awaited; not an unhandled rejection if never awaited
    return promise;
  };
  let ahead = prefetch();
  let epoch = 1;
  for (;;) {
    const rows = packer.pack();
    if (rows === "done") return;
    if (rows === "docs") {
      const fetched = await ahead;
      if (!fetched) packer.finish();
      else {
        ahead = prefetch();
        epoch = fetched.epoch;
        packer.push(fetched.docs);
      }
      continue;
    }
    yield { ...splitRows(rows, batchSize, seqLen), epoch };
  }
}

/** inputs = row[0..T), targets = row[1..T] for each row of T + 1 tokens. */
function splitRows(rows: Int32Array, batchSize: number, seqLen: number): { inputs: Int32Array; targets: Int32Array } {
  const inputs = new Int32Array(batchSize * seqLen);
  const targets = new Int32Array(batchSize * seqLen);
  for (let r = 0; r < batchSize; r++) {
    const row = rows.subarray(r * (seqLen + 1), (r + 1) * (seqLen + 1));
    inputs.set(row.subarray(0, seqLen), r * seqLen);
    targets.set(row.subarray(1), r * seqLen);
  }
  return { inputs, targets };
}
