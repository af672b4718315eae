import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { shardName } from "../../src/data/download-shards.ts";
import { prepareData } from "../../src/data/prepare-data.ts";
import type { Profile } from "../../src/data/profiles.ts";
import { resolveDataLayout } from "../../src/data/resolve-data-layout.ts";
import { SeededRandom } from "../../src/data/seeded-random.ts";
import { parquetBytes, tempDir, writeParquetShard } from "./shard-fixtures.ts";

const profile: Profile = {
  name: "tiny",
  MAX_SEQ_LEN: 32,
  TIME_BUDGET: 1,
  EVAL_TOKENS: 64,
  VOCAB_SIZE: 300,
  source: { kind: "climbmix", trainShards: 2 },
  budgetClock: "wall",
};

const random = new SeededRandom(1);
const words = "river stone willow meadow lantern harbor copper thistle".split(" ");
const docs = (n: number) => Array.from({ length: n }, () => Array.from({ length: random.between(4, 40) }, () => random.pick(words)).join(" "));
const quiet = { log: () => {}, progress: { write: () => true } };

describe("prepareData", () => {
  it("trains the tokenizer on a local directory's training shards only, and keeps it on a rerun", async () => {
    const dir = tempDir();
    writeParquetShard(join(dir, "part-0.parquet"), docs(100));
    writeParquetShard(join(dir, "part-1.parquet"), docs(100));
    // The validation shard is not parquet at all: reading it would throw.
    writeFileSync(join(dir, "part-9.parquet"), "PAR1 but no parquet");
    const layout = resolveDataLayout(profile, ["--source", dir], { AUTORESEARCH_CACHE_DIR: tempDir() });
    const { shards, tokenizer } = await prepareData(profile, layout, quiet);
    expect(shards.val).toBe(join(dir, "part-9.parquet"));
    expect(tokenizer.vocabSize).toBe(300);
    const info = JSON.parse(readFileSync(join(layout.tokenizerDir, "tokenizer.json"), "utf8"));
    expect(info.trained_on).toEqual(["part-0.parquet", "part-1.parquet"]);

    const lines: string[] = [];
    const again = await prepareData(profile, layout, { ...quiet, log: (line) => lines.push(line) });
    expect(again.tokenizer.mergeable).toEqual(tokenizer.mergeable);
    expect(lines).toContain(`tokenizer: already trained, at ${layout.tokenizerDir}`);
  });

  it("downloads climbmix shards with the validation shard pinned, then trains", async () => {
    const files = Object.fromEntries([0, 1, 6542].map((i) => [shardName(i), parquetBytes(docs(60))]));
    const requested: string[] = [];
    const fetchImpl = (async (url: string) => {
      requested.push(url);
      return new Response(Buffer.from(files[url.slice(url.lastIndexOf("/") + 1)]));
    }) as typeof fetch;
    const layout = resolveDataLayout(profile, ["--source", "https://hub.invalid/climbmix"], { AUTORESEARCH_CACHE_DIR: tempDir() });
    const { shards } = await prepareData(profile, layout, { ...quiet, download: { fetch: fetchImpl } });
    expect(readdirSync(layout.shardDir).sort()).toEqual([shardName(0), shardName(1), shardName(6542)]);
    expect(shards.val).toBe(join(layout.shardDir, shardName(6542)));
    expect(requested).toHaveLength(3);
    await prepareData(profile, layout, { ...quiet, download: { fetch: fetchImpl } });
    expect(requested).toHaveLength(3);
  });

  it("stops at a download that keeps failing, leaving neither the shard nor a tokenizer", async () => {
    const fetchImpl = (async () => new Response(Buffer.from("<html>busy</html>"))) as typeof fetch;
    const layout = resolveDataLayout(profile, ["--source", "https://hub.invalid/climbmix"], { AUTORESEARCH_CACHE_DIR: tempDir() });
    const failing = prepareData(profile, layout, { ...quiet, download: { fetch: fetchImpl, backoffMs: () => 0 } });
    await expect(failing).rejects.toThrow(/Could not download `https:\/\/hub.invalid\/climbmix\/shard_0000\d.parquet`/);
    expect(readdirSync(layout.shardDir)).toEqual([]);
    expect(existsSync(layout.tokenizerDir)).toBe(false);
  });

  it("names an empty local directory", async () => {
    const dir = join(tempDir(), "empty");
    mkdirSync(dir);
    const layout = resolveDataLayout(profile, ["--source", dir], { AUTORESEARCH_CACHE_DIR: tempDir() });
    await expect(prepareData(profile, layout, quiet)).rejects.toThrow(`Expected \`${dir}\` to hold at least 2 shards`);
  });

  it("generates the synthetic corpus for a synthetic profile", async () => {
    const synthetic: Profile = { ...profile, VOCAB_SIZE: 400, source: { kind: "synthetic", trainShards: 2, shardBytes: 30_000, seed: 3 } };
    const layout = resolveDataLayout(synthetic, [], { AUTORESEARCH_CACHE_DIR: tempDir() });
    const { shards, tokenizer } = await prepareData(synthetic, layout, quiet);
    expect(shards.train).toHaveLength(2);
    expect(tokenizer.vocabSize).toBe(400);
  });
});
