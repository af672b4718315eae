import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { capCodePoints, trainingTexts } from "../../src/data/training-texts.ts";
import { collect, tempDir, writeParquetShard, writeTextShard } from "./shard-fixtures.ts";

describe("capCodePoints", () => {
  it("counts code points like Python, never splitting a surrogate pair", () => {
    expect(capCodePoints("🙂🙂🙂", 2)).toBe("🙂🙂");
    expect(capCodePoints("a🙂b", 2)).toBe("a🙂");
    expect(capCodePoints("abc", 5)).toBe("abc");
    expect(capCodePoints("abc", 0)).toBe("");
  });
});

describe("trainingTexts", () => {
  it("reads the given shards in order, capping each document", async () => {
    const dir = tempDir();
    const a = writeParquetShard(join(dir, "a.parquet"), ["x".repeat(12_000), "short"]);
    const b = writeTextShard(join(dir, "b.txt"), ["🙂".repeat(10_001)]);
    const texts = await collect(trainingTexts([a, b]));
    expect(texts.map((t) => t.length)).toEqual([10_000, 5, 20_000]);
    expect(texts[2]).toBe("🙂".repeat(10_000));
  });

  it("stops at the first document that reaches the character budget", async () => {
    const a = writeTextShard(join(tempDir(), "a.txt"), ["abcd", "🙂🙂🙂", "efgh", "never"]);
    expect(await collect(trainingTexts([a], { docCap: 3, maxChars: 6 }))).toEqual(["abc", "🙂🙂🙂"]);
  });
});
