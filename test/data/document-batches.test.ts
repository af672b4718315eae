import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { documentBatches } from "../../src/data/document-batches.ts";
import { collect, tempDir, writeParquetShard, writeTextShard } from "./shard-fixtures.ts";

describe("documentBatches", () => {
  it("goes through the shards in order and loops with the epoch counting passes", async () => {
    const dir = tempDir();
    const a = writeParquetShard(join(dir, "a.parquet"), ["a1", "a2", "a3"], { rowGroupSize: 2 });
    const b = writeTextShard(join(dir, "b.txt"), ["b1"]);
    const batches = await collect(documentBatches([a, b], { loop: true }), 7);
    expect(batches).toEqual([
      { docs: ["a1", "a2"], epoch: 1 },
      { docs: ["a3"], epoch: 1 },
      { docs: ["b1"], epoch: 1 },
      { docs: ["a1", "a2"], epoch: 2 },
      { docs: ["a3"], epoch: 2 },
      { docs: ["b1"], epoch: 2 },
      { docs: ["a1", "a2"], epoch: 3 },
    ]);
  });

  it("stops after one pass without loop", async () => {
    const a = writeTextShard(join(tempDir(), "a.txt"), ["x", "y", "z"]);
    expect(await collect(documentBatches([a], { loop: false, batchSize: 2 }))).toEqual([
      { docs: ["x", "y"], epoch: 1 },
      { docs: ["z"], epoch: 1 },
    ]);
  });

  it("refuses to loop forever over shards without documents", async () => {
    const a = writeTextShard(join(tempDir(), "empty.txt"), []);
    await expect(collect(documentBatches([a], { loop: true }), 1)).rejects.toThrow(
      `Expected the shards to hold at least one document, got none in \`${a}\``,
    );
  });
});
