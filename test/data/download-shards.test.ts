import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLIMBMIX_URL, CLIMBMIX_VAL_SHARD, downloadShards, shardName } from "../../src/data/download-shards.ts";
import { readDocumentBatches } from "../../src/data/read-document-batches.ts";
import { parquetBytes, tempDir } from "./shard-fixtures.ts";

/** A fake Hugging Face serving a parquet shard per name, or bytes that are not parquet. */
function fakeHub(files: Record<string, Uint8Array>) {
  const requested: string[] = [];
  const fetchImpl = (async (url: string) => {
    requested.push(url);
    const name = url.slice(url.lastIndexOf("/") + 1);
    const bytes = files[name];
    if (!bytes) return new Response("", { status: 404, statusText: "Not Found" });
    return new Response(Buffer.from(bytes), { headers: { "content-length": String(bytes.length) } });
  }) as typeof fetch;
  return { fetchImpl, requested };
}

function progressSink() {
  const lines: string[] = [];
  return { lines, stream: { write: (text: string) => lines.push(text) } };
}

describe("downloadShards", () => {
  it("names shards like climbmix and pins the last one as validation", () => {
    expect(shardName(7)).toBe("shard_00007.parquet");
    expect(shardName(CLIMBMIX_VAL_SHARD)).toBe("shard_06542.parquet");
    expect(CLIMBMIX_URL).toBe("https://huggingface.co/datasets/karpathy/climbmix-400b-shuffle/resolve/main");
  });

  it("downloads the missing shards, checks they read as parquet, and shows progress", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, shardName(0)), parquetBytes(["already here"]));
    const files = Object.fromEntries([0, 1, 2, 6542].map((i) => [shardName(i), parquetBytes([`doc of shard ${i}`])]));
    const { fetchImpl, requested } = fakeHub(files);
    const { lines, stream } = progressSink();
    await downloadShards("https://hub.invalid/base", [0, 1, 2, 6542], dir, { fetch: fetchImpl, progress: stream, concurrency: 2 });
    expect(requested.sort()).toEqual([1, 2, 6542].map((i) => `https://hub.invalid/base/${shardName(i)}`));
    expect(readdirSync(dir).sort()).toEqual([0, 1, 2, 6542].map(shardName));
    for await (const docs of readDocumentBatches(join(dir, shardName(6542)))) expect(docs).toEqual(["doc of shard 6542"]);
    expect(lines.at(-1)).toMatch(/^download 3 shards \[#+\] 100% /);
  });

  it("rejects a shard that is not parquet, naming it, and keeps no half-written file", async () => {
    const dir = tempDir();
    const files = { [shardName(0)]: parquetBytes(["fine"]), [shardName(1)]: new TextEncoder().encode("<html>rate limited</html>") };
    const { fetchImpl } = fakeHub(files);
    await expect(
      downloadShards("https://hub.invalid/base", [0, 1], dir, { fetch: fetchImpl, attempts: 2, backoffMs: () => 0, progress: progressSink().stream }),
    ).rejects.toThrow(`Could not download \`https://hub.invalid/base/${shardName(1)}\` to \`${join(dir, shardName(1))}\` after 2 attempts: Could not read parquet shard`);
    expect(readdirSync(dir)).toEqual([shardName(0)]);
  });

  it("does nothing when every shard is there", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, shardName(3)), parquetBytes(["x"]));
    const { fetchImpl, requested } = fakeHub({});
    const { lines, stream } = progressSink();
    await downloadShards("https://hub.invalid/base", [3], dir, { fetch: fetchImpl, progress: stream });
    expect(requested).toEqual([]);
    expect(lines).toEqual([]);
  });
});
