import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listShards } from "../../src/data/list-shards.ts";
import { readDocumentBatches } from "../../src/data/read-document-batches.ts";
import { syntheticDocuments } from "../../src/data/synthetic-corpus.ts";
import { writeSyntheticShards } from "../../src/data/write-synthetic-shards.ts";
import { tempDir } from "./shard-fixtures.ts";

describe("writeSyntheticShards", () => {
  const spec = { trainShards: 2, shardBytes: 20_000, seed: 5 };

  it("writes the corpus as text shards, the validation shard last, with documents read back whole", async () => {
    const dir = tempDir();
    const paths = await writeSyntheticShards(dir, spec);
    expect(await listShards(dir)).toEqual({ train: paths.slice(0, 2), val: paths[2] });
    const docs: string[] = [];
    for (const path of paths) for await (const batch of readDocumentBatches(path)) docs.push(...batch);
    const expected = syntheticDocuments(5);
    for (const doc of docs) expect(doc).toBe(expected.next().value);
    for (const path of paths) expect(readFileSync(path).length).toBeGreaterThanOrEqual(20_000);
  });

  it("is the same in any folder, and keeps shards that are already there", async () => {
    const [a, b] = [tempDir(), tempDir()];
    const first = await writeSyntheticShards(a, spec);
    const second = await writeSyntheticShards(b, spec);
    expect(second.map((p) => readFileSync(p, "utf8"))).toEqual(first.map((p) => readFileSync(p, "utf8")));
    writeFileSync(first[0], "kept as is");
    await writeSyntheticShards(a, spec);
    expect(readFileSync(first[0], "utf8")).toBe("kept as is");
  });
});
