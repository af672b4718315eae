import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listShards } from "../../src/data/list-shards.ts";
import { tempDir } from "./shard-fixtures.ts";

function touch(dir: string, ...names: string[]): void {
  for (const name of names) writeFileSync(join(dir, name), "x");
}

describe("listShards", () => {
  it("pins the last shard in name order as validation", async () => {
    const dir = tempDir();
    touch(dir, "shard_06542.parquet", "shard_00001.parquet", "shard_00000.parquet");
    expect(await listShards(dir)).toEqual({
      train: [join(dir, "shard_00000.parquet"), join(dir, "shard_00001.parquet")],
      val: join(dir, "shard_06542.parquet"),
    });
  });

  it("takes .txt shards too, and skips downloads in progress, hidden files and others", async () => {
    const dir = tempDir();
    touch(dir, "b.txt", "a.txt", "c.parquet.tmp", ".hidden.txt", "notes.md");
    mkdirSync(join(dir, "sub"));
    expect(await listShards(dir)).toEqual({ train: [join(dir, "a.txt")], val: join(dir, "b.txt") });
  });

  it("names an empty directory", async () => {
    const dir = tempDir();
    await expect(listShards(dir)).rejects.toThrow(
      `Expected \`${dir}\` to hold at least 2 shards (.parquet or .txt; the last is the validation shard), found 0`,
    );
  });

  it("wants a training shard besides the validation shard", async () => {
    const dir = tempDir();
    touch(dir, "only.parquet");
    await expect(listShards(dir)).rejects.toThrow("found 1");
  });

  it("names a missing directory", async () => {
    const dir = join(tempDir(), "missing");
    await expect(listShards(dir)).rejects.toThrow(`Expected \`${dir}\` to be a directory of .parquet or .txt shards, but it does not exist`);
  });
});
