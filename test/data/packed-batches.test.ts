import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { listShards } from "../../src/data/list-shards.ts";
import { packedBatches } from "../../src/data/packed-batches.ts";
import { SeededRandom } from "../../src/data/seeded-random.ts";
import { Tokenizer } from "../../src/data/tokenizer.ts";
import { collect, tempDir, writeParquetShard, writeTextShard } from "./shard-fixtures.ts";

const random = new SeededRandom(17);
const vocabulary = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", ".", ","];
const makeDoc = () => Array.from({ length: random.between(1, 60) }, () => random.pick(vocabulary)).join(" ");
let tokenizer: Tokenizer;
beforeAll(async () => {
  tokenizer = await Tokenizer.train(Array.from({ length: 200 }, makeDoc), 300);
});

/** Two training shards (parquet and text) and a validation shard that is not even parquet. */
function shardsWithCorruptVal(): string {
  const dir = tempDir();
  writeParquetShard(join(dir, "shard_00000.parquet"), Array.from({ length: 150 }, makeDoc), { rowGroupSize: 64 });
  writeTextShard(join(dir, "shard_00001.txt"), Array.from({ length: 90 }, makeDoc));
  writeFileSync(join(dir, "shard_99999.parquet"), "not parquet: reading this would throw");
  return dir;
}

describe("packedBatches", () => {
  it("yields B x T inputs with targets shifted by one, every row starting with BOS", async () => {
    const { train } = await listShards(shardsWithCorruptVal());
    const [batchSize, seqLen] = [3, 20];
    for (const { inputs, targets } of await collect(packedBatches(train, tokenizer, batchSize, seqLen, { loop: true }), 5)) {
      expect(inputs).toHaveLength(batchSize * seqLen);
      expect(targets).toHaveLength(batchSize * seqLen);
      for (let r = 0; r < batchSize; r++) {
        const row = inputs.subarray(r * seqLen, (r + 1) * seqLen);
        expect(row[0]).toBe(tokenizer.bosTokenId);
        expect([...targets.subarray(r * seqLen, (r + 1) * seqLen - 1)]).toEqual([...row.subarray(1)]);
      }
    }
  });

  it("never reads the validation shard for training, and loops with the epoch counting passes", async () => {
    const { train } = await listShards(shardsWithCorruptVal());
    const batches = await collect(packedBatches(train, tokenizer, 8, 64, { loop: true, bufferSize: 50 }), 200);
    const epochs = batches.map((b) => b.epoch);
    expect(epochs[0]).toBe(1);
    expect(Math.max(...epochs)).toBeGreaterThanOrEqual(3);
    expect(epochs).toEqual([...epochs].sort((a, b) => a - b));
  });

  it("is deterministic: two loaders over the same shards give the same batches", async () => {
    const { train } = await listShards(shardsWithCorruptVal());
    const first = await collect(packedBatches(train, tokenizer, 4, 32, { loop: true }), 30);
    const second = await collect(packedBatches(train, tokenizer, 4, 32, { loop: true }), 30);
    expect(second).toEqual(first);
  });

  it("makes one finite pass without loop, using up nearly all the tokens", async () => {
    const docs = Array.from({ length: 300 }, () => vocabulary.slice(0, random.between(1, 8)).join(" "));
    const val = writeTextShard(join(tempDir(), "val.txt"), docs);
    const totalTokens = docs.reduce((sum, doc) => sum + tokenizer.encode(doc).length + 1, 0);
    const batches = await collect(packedBatches([val], tokenizer, 2, 64, { loop: false }));
    expect(batches.every((b) => b.epoch === 1)).toBe(true);
    // Short documents are only cropped at row ends, and less than one batch is left over.
    const used = batches.length * 2 * 65;
    expect(used).toBeLessThanOrEqual(totalTokens);
    expect(used).toBeGreaterThan(0.9 * totalTokens - 2 * 65);
  });

  it("accepts an asynchronous encoder, such as a worker pool", async () => {
    const { train } = await listShards(shardsWithCorruptVal());
    const asyncEncoder = {
      bosTokenId: tokenizer.bosTokenId,
      encodeBatch: async (texts: readonly string[], prepend: number) => tokenizer.encodeBatch(texts, prepend),
    };
    const expected = await collect(packedBatches(train, tokenizer, 2, 16, { loop: true }), 10);
    expect(await collect(packedBatches(train, asyncEncoder, 2, 16, { loop: true }), 10)).toEqual(expected);
  });
});
