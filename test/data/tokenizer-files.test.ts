import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SPLIT_PATTERN } from "../../src/data/split-pattern.ts";
import { Tokenizer } from "../../src/data/tokenizer.ts";
import { loadTokenizer, saveTokenizer } from "../../src/data/tokenizer-files.ts";
import { tempDir } from "./shard-fixtures.ts";

const tokenizer = await Tokenizer.train(["the quick brown fox jumps over the lazy dog, again and again"], 280);

describe("saveTokenizer / loadTokenizer", () => {
  it("round-trips, as tiktoken ranks plus a JSON description", async () => {
    const dir = join(tempDir(), "tok");
    await saveTokenizer(tokenizer, dir, ["shard_00000.parquet"]);
    expect(readdirSync(dir).sort()).toEqual(["tokenizer.json", "tokenizer.tiktoken"]);
    expect(JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"))).toEqual({
      format: "autoresearch-bpe/1",
      pattern: SPLIT_PATTERN,
      vocab_size: 280,
      special_tokens: { "<|reserved_0|>": 276, "<|reserved_1|>": 277, "<|reserved_2|>": 278, "<|reserved_3|>": 279 },
      bos_token: "<|reserved_0|>",
      mergeable_ranks: "tokenizer.tiktoken",
      trained_on: ["shard_00000.parquet"],
    });
    const loaded = await loadTokenizer(dir, 280);
    expect(loaded.mergeable).toEqual(tokenizer.mergeable);
    expect([...loaded.encode("the lazy fox")]).toEqual([...tokenizer.encode("the lazy fox")]);
  });

  it("says where it looked when there is none", async () => {
    const dir = tempDir();
    await expect(loadTokenizer(dir, 280)).rejects.toThrow(`Expected a tokenizer at \`${join(dir, "tokenizer.json")}\`, but there is none`);
  });

  it("rejects another vocabulary size, a damaged file or another pattern", async () => {
    const dir = tempDir();
    await saveTokenizer(tokenizer, dir, []);
    await expect(loadTokenizer(dir, 8192)).rejects.toThrow("to have VOCAB_SIZE 8192, got 280");
    const path = join(dir, "tokenizer.json");
    const info = JSON.parse(readFileSync(path, "utf8"));
    writeFileSync(path, JSON.stringify({ ...info, pattern: "\\w+" }));
    await expect(loadTokenizer(dir, 280)).rejects.toThrow("with the reference split pattern");
    writeFileSync(path, "{ half");
    await expect(loadTokenizer(dir, 280)).rejects.toThrow(`Expected \`${path}\` to be JSON, but it is not`);
  });
});
