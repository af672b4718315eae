import { readDocumentBatches } from "./read-document-batches.ts";

/** Documents read together, and the pass over the shards they come from (1-based). */
export interface DocumentBatch {
  docs: string[];
  epoch: number;
}

/** Options for {@link documentBatches}. */
export interface DocumentBatchesOptions {
  /** Start over at the first shard when the last is done, incrementing `epoch`; else stop after one pass. */
  loop: boolean;
  /** Documents per batch (the reference's tokenizer batch size). */
  batchSize?: number;
}

/** Stream the documents of `paths`, in shard order and file order, in batches. */
export async function* documentBatches(paths: readonly string[], options: DocumentBatchesOptions): AsyncGenerator<DocumentBatch> {
  for (let epoch = 1; ; epoch++) {
    let any = false;
    for (const path of paths) {
      for await (const docs of readDocumentBatches(path, options.batchSize)) {
        any = true;
        yield { docs, epoch };
      }
    }
    if (!any) throw new Error(`Expected the shards to hold at least one document, got none in ${paths.map((p) => `\`${p}\``).join(", ")}`);
    if (!options.loop) return;
  }
}
