import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readDocumentBatches } from "../../src/data/read-document-batches.ts";
import { collect, parquetBytes, tempDir, writeParquetShard, writeTextShard } from "./shard-fixtures.ts";

const docs = Array.from({ length: 300 }, (_, i) => `document ${i} ${"é🙂".repeat(i % 7)}`);

describe("readDocumentBatches", () => {
  it("reads a parquet shard's text column in batches of 128 that never span row groups", async () => {
    const path = writeParquetShard(join(tempDir(), "a.parquet"), docs, { rowGroupSize: 200 });
    const batches = await collect(readDocumentBatches(path));
    expect(batches.map((b) => b.length)).toEqual([128, 72, 100]);
    expect(batches.flat()).toEqual(docs);
  });

  it("splits a text shard at <|endoftext|> and trims each document", async () => {
    const path = writeTextShard(join(tempDir(), "a.txt"), ["  first story\n", "second\n\nstory", "", "third"]);
    expect(await collect(readDocumentBatches(path, 2))).toEqual([["first story", "second\n\nstory"], ["third"]]);
  });

  it("reads a text file without separators as one document", async () => {
    const path = join(tempDir(), "book.txt");
    writeFileSync(path, "Call me Ishmael.\n\nSome years ago...\n");
    expect(await collect(readDocumentBatches(path))).toEqual([["Call me Ishmael.\n\nSome years ago..."]]);
  });

  it("names the file when a parquet shard is corrupt", async () => {
    const path = join(tempDir(), "corrupt.parquet");
    writeFileSync(path, "this is not parquet at all, just some text padding it out");
    await expect(collect(readDocumentBatches(path))).rejects.toThrow(`Could not read parquet shard \`${path}\`: `);
  });

  it("names the file when a parquet shard is truncated", async () => {
    const path = join(tempDir(), "truncated.parquet");
    const bytes = parquetBytes(docs);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(collect(readDocumentBatches(path))).rejects.toThrow(`Could not read parquet shard \`${path}\`: `);
  });

  it("names the file when the data pages are damaged but the footer is intact", async () => {
    const path = join(tempDir(), "damaged.parquet");
    const bytes = parquetBytes(docs);
    bytes.fill(0xff, 4, 400);
    writeFileSync(path, bytes);
    await expect(collect(readDocumentBatches(path))).rejects.toThrow(`Could not read parquet shard \`${path}\`: `);
  });

  it("names the file and the columns when there is no text column", async () => {
    const path = writeParquetShard(join(tempDir(), "body.parquet"), ["x"], { column: "body" });
    await expect(collect(readDocumentBatches(path))).rejects.toThrow(`Expected parquet shard \`${path}\` to have a \`text\` column, got \`body\``);
  });

  it("names the file and the row when a text value is null", async () => {
    const path = writeParquetShard(join(tempDir(), "nulls.parquet"), ["a", null, "c"]);
    await expect(collect(readDocumentBatches(path))).rejects.toThrow(`Expected row 1 of parquet shard \`${path}\` to hold a string \`text\`, got \`null\``);
  });

  it("names the file when a text shard is not UTF-8", async () => {
    const path = join(tempDir(), "latin1.txt");
    writeFileSync(path, Uint8Array.of(0x63, 0x61, 0x66, 0xe9));
    await expect(collect(readDocumentBatches(path))).rejects.toThrow(`Expected text shard \`${path}\` to be valid UTF-8, but it is not`);
  });

  it("names the file when it is missing", async () => {
    const dir = tempDir();
    await expect(collect(readDocumentBatches(join(dir, "gone.parquet")))).rejects.toThrow(`Could not read parquet shard \`${join(dir, "gone.parquet")}\``);
    await expect(collect(readDocumentBatches(join(dir, "gone.txt")))).rejects.toThrow(`Could not read text shard \`${join(dir, "gone.txt")}\``);
    expect(readdirSync(dir)).toEqual([]);
  });
});
