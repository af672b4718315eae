import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { TEXT_DOCUMENT_SEPARATOR } from "./read-document-batches.ts";
import { syntheticDocuments } from "./synthetic-corpus.ts";
import { writeFileAtomic } from "./write-file-atomic.ts";

/** Options for {@link writeSyntheticShards}. */
export interface SyntheticShardsSpec {
  trainShards: number;
  /** UTF-8 bytes of text per shard (the validation shard too). */
  shardBytes: number;
  seed: number;
}

/**
 * Write the synthetic corpus as `.txt` shards: `shard_00000.txt` ... for training, then
 * `shard_99999.txt`, which sorts last and so is the validation shard. Shards that are
 * already there are kept: the corpus is the same for the same spec.
 *
 * @returns the paths of all shards, validation last.
 */
export async function writeSyntheticShards(dir: string, spec: SyntheticShardsSpec): Promise<string[]> {
  const names = [...Array.from({ length: spec.trainShards }, (_, i) => `shard_${String(i).padStart(5, "0")}.txt`), "shard_99999.txt"];
  const paths = names.map((name) => join(dir, name));
  const present = await Promise.all(paths.map((path) => stat(path).then(() => true, () => false)));
  if (present.every(Boolean)) return paths;
  await mkdir(dir, { recursive: true });
  const docs = syntheticDocuments(spec.seed);
  for (const path of paths) {
    const shard: string[] = [];
    for (let bytes = 0; bytes < spec.shardBytes; ) {
      const doc = docs.next().value as string;
      shard.push(doc);
      bytes += Buffer.byteLength(doc) + TEXT_DOCUMENT_SEPARATOR.length + 2;
    }
    await writeFileAtomic(path, shard.join(`\n${TEXT_DOCUMENT_SEPARATOR}\n`));
  }
  return paths;
}
