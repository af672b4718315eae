import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { listShards } from "../../src/data/list-shards.ts";
import { readDocumentBatches } from "../../src/data/read-document-batches.ts";
import { syntheticDocuments } from "../../src/data/synthetic-corpus.ts";
import { validationSeedFile, writeSyntheticShards } from "../../src/data/write-synthetic-shards.ts";
import { tempDir } from "./shard-fixtures.ts";

async function documents(paths: string[]): Promise<string[]> {
  const docs: string[] = [];
  for (const path of paths) for await (const batch of readDocumentBatches(path)) docs.push(...batch);
  return docs;
}

const shardsDir = () => join(tempDir(), "shards");

describe("writeSyntheticShards", () => {
  const spec = { trainShards: 2, shardBytes: 20_000, seed: 5 };

  it("writes the training shards from the public seed and the validation shard, last, from the kept secret seed", async () => {
    const dir = shardsDir();
    const paths = await writeSyntheticShards(dir, spec);
    expect(await listShards(dir)).toEqual({ train: paths.slice(0, 2), val: paths[2] });
    const train = syntheticDocuments(5);
    for (const doc of await documents(paths.slice(0, 2))) expect(doc).toBe(train.next().value);
    const secret = Number(readFileSync(validationSeedFile(dir), "utf8"));
    const val = syntheticDocuments(5, secret);
    const valDocs = await documents(paths.slice(2));
    for (const doc of valDocs) expect(doc).toBe(val.next().value);
    // What the public seed would have written next is not the validation shard.
    expect(valDocs.slice(0, 5)).not.toEqual([0, 1, 2, 3, 4].map(() => train.next().value));
    for (const path of paths) expect(readFileSync(path).length).toBeGreaterThanOrEqual(20_000);
  });

  it("keeps the secret outside the shards folder, readable by its owner only", async () => {
    const dir = shardsDir();
    await writeSyntheticShards(dir, spec);
    const file = validationSeedFile(dir);
    expect(dirname(file)).toBe(dirname(dir));
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("writes the same training shards in any folder, and a different validation shard per folder", async () => {
    const [a, b] = [shardsDir(), shardsDir()];
    const first = await writeSyntheticShards(a, spec);
    const second = await writeSyntheticShards(b, spec);
    const read = (paths: string[]) => paths.map((p) => readFileSync(p, "utf8"));
    expect(read(second.slice(0, 2))).toEqual(read(first.slice(0, 2)));
    expect(read(second.slice(2))).not.toEqual(read(first.slice(2)));
  });

  it("keeps shards that are already there, and replaces a validation shard that has no kept seed", async () => {
    const dir = shardsDir();
    const paths = await writeSyntheticShards(dir, spec);
    writeFileSync(paths[0], "kept as is");
    writeFileSync(paths[2], "kept too");
    await writeSyntheticShards(dir, spec);
    expect(readFileSync(paths[0], "utf8")).toBe("kept as is");
    expect(readFileSync(paths[2], "utf8")).toBe("kept too");
    // A cache from before the secret: the validation shard continued the public stream.
    rmSync(validationSeedFile(dir));
    await writeSyntheticShards(dir, spec);
    const secret = Number(readFileSync(validationSeedFile(dir), "utf8"));
    expect((await documents(paths.slice(2)))[0]).toBe(syntheticDocuments(5, secret).next().value);
  });

  it("names the file when the kept seed is not a seed", async () => {
    const dir = shardsDir();
    await writeSyntheticShards(dir, spec);
    writeFileSync(validationSeedFile(dir), "not a number");
    await expect(writeSyntheticShards(dir, spec)).rejects.toThrow(`Expected ${validationSeedFile(dir)} to hold an integer from 0 to 2^32 - 1, got \`not a number\``);
  });
});
