import { randomBytes } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
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
 * Where the seed of the validation shard is kept: beside the shards folder, never inside it,
 * so that no view of the training shards holds it.
 */
export function validationSeedFile(dir: string): string {
  return join(dirname(dir), "validation-seed");
}

/**
 * Write the synthetic corpus as `.txt` shards: `shard_00000.txt` ... for training, from the
 * profile's public seed, then `shard_99999.txt`, which sorts last and so is the validation
 * shard. The validation shard's documents come from a random seed made on the first run
 * and kept in {@link validationSeedFile} (mode 0600): a train.ts that carries its own copy
 * of the generator can rebuild the training shards, but not the evaluator's batches.
 * Shards that are already there are kept (the training shards are the same for the same
 * spec); a validation shard without a kept seed (from before the seed existed) is replaced.
 *
 * @returns the paths of all shards, validation last.
 */
export async function writeSyntheticShards(dir: string, spec: SyntheticShardsSpec): Promise<string[]> {
  const names = [...Array.from({ length: spec.trainShards }, (_, i) => `shard_${String(i).padStart(5, "0")}.txt`), "shard_99999.txt"];
  const paths = names.map((name) => join(dir, name));
  const trainPaths = paths.slice(0, -1);
  const valPath = paths.at(-1)!;
  const exists = (path: string) => stat(path).then(() => true, () => false);
  await mkdir(dir, { recursive: true });
  if (!(await Promise.all(trainPaths.map(exists))).every(Boolean)) await writeShards(trainPaths, syntheticDocuments(spec.seed), spec.shardBytes);
  const seedFile = validationSeedFile(dir);
  let validationSeed = await readValidationSeed(seedFile);
  if (validationSeed === null || !(await exists(valPath))) {
    validationSeed ??= await makeValidationSeed(seedFile);
    await writeShards([valPath], syntheticDocuments(spec.seed, validationSeed), spec.shardBytes);
  }
  return paths;
}

async function writeShards(paths: string[], docs: Generator<string>, shardBytes: number): Promise<void> {
  for (const path of paths) {
    const shard: string[] = [];
    for (let bytes = 0; bytes < shardBytes; ) {
      const doc = docs.next().value as string;
      shard.push(doc);
      bytes += Buffer.byteLength(doc) + TEXT_DOCUMENT_SEPARATOR.length + 2;
    }
    await writeFileAtomic(path, shard.join(`\n${TEXT_DOCUMENT_SEPARATOR}\n`));
  }
}

async function readValidationSeed(file: string): Promise<number | null> {
  const text = await readFile(file, "utf8").catch(() => null);
  if (text === null) return null;
  const seed = Number(text.trim());
  if (!(Number.isSafeInteger(seed) && seed >= 0 && seed < 2 ** 32)) throw new Error(`Expected ${file} to hold an integer from 0 to 2^32 - 1, got \`${text.slice(0, 40)}\``);
  return seed;
}

/** A random 32-bit seed (the generator's whole seed space), written readable by its owner only. */
async function makeValidationSeed(file: string): Promise<number> {
  const seed = randomBytes(4).readUInt32LE();
  await writeFile(file, `${seed}\n`, { mode: 0o600 });
  return seed;
}
