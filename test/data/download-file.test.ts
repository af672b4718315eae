import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { downloadFile } from "../../src/data/download-file.ts";
import { tempDir } from "./shard-fixtures.ts";

const URL = "https://example.invalid/shard_00000.parquet";
const content = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) % 256);

/** A body that sends `bytes`, then fails after `cutAt` bytes if given. */
function body(bytes: Uint8Array, cutAt?: number): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(controller) {
      if (!sent) {
        controller.enqueue(bytes.slice(0, cutAt ?? bytes.length));
        sent = true;
      } else if (cutAt !== undefined) controller.error(new Error("connection reset"));
      else controller.close();
    },
  });
}

/**
 * A fake server for `content`: `plan[i]` says how request i goes. It honours Range
 * requests unless told to ignore them, and records each request's Range header.
 */
function fakeFetch(plan: Array<"ok" | "cut" | "ignore-range" | "404">) {
  const ranges: Array<string | undefined> = [];
  const fetchImpl = (async (_url: string, init?: RequestInit) => {
    const range = (init?.headers as Record<string, string> | undefined)?.Range;
    ranges.push(range);
    const step = plan[ranges.length - 1] ?? "ok";
    if (step === "404") return new Response("missing", { status: 404, statusText: "Not Found" });
    const offset = range && step !== "ignore-range" ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    const rest = content.subarray(offset);
    const headers = { "content-length": String(rest.length) };
    return new Response(body(rest, step === "cut" ? rest.length >> 1 : undefined), { status: offset > 0 ? 206 : 200, headers });
  }) as typeof fetch;
  return { fetchImpl, ranges };
}

const noWait = () => 0;

describe("downloadFile", () => {
  it("downloads to a temporary file and renames it into place", async () => {
    const dir = tempDir();
    const { fetchImpl } = fakeFetch(["ok"]);
    let counted = 0;
    await downloadFile(URL, join(dir, "a.parquet"), { fetch: fetchImpl, onBytes: (n) => (counted += n) });
    expect(readFileSync(join(dir, "a.parquet"))).toEqual(Buffer.from(content));
    expect(readdirSync(dir)).toEqual(["a.parquet"]);
    expect(counted).toBe(content.length);
  });

  it("resumes an interrupted download with a Range request", async () => {
    const dir = tempDir();
    const { fetchImpl, ranges } = fakeFetch(["cut", "cut", "ok"]);
    await downloadFile(URL, join(dir, "a.parquet"), { fetch: fetchImpl, backoffMs: noWait });
    expect(ranges).toEqual([undefined, "bytes=5000-", "bytes=7500-"]);
    expect(readFileSync(join(dir, "a.parquet"))).toEqual(Buffer.from(content));
  });

  it("starts over when the server ignores the Range request", async () => {
    const dir = tempDir();
    const { fetchImpl } = fakeFetch(["cut", "ignore-range"]);
    await downloadFile(URL, join(dir, "a.parquet"), { fetch: fetchImpl, backoffMs: noWait });
    expect(readFileSync(join(dir, "a.parquet"))).toEqual(Buffer.from(content));
  });

  it("resumes a partial file left by an earlier run", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a.parquet.tmp"), content.subarray(0, 1234));
    const { fetchImpl, ranges } = fakeFetch(["ok"]);
    await downloadFile(URL, join(dir, "a.parquet"), { fetch: fetchImpl });
    expect(ranges).toEqual(["bytes=1234-"]);
    expect(readFileSync(join(dir, "a.parquet"))).toEqual(Buffer.from(content));
  });

  it("gives up after the attempts with an error naming the URL and file, leaving nothing behind", async () => {
    const dir = tempDir();
    const dest = join(dir, "a.parquet");
    const { fetchImpl, ranges } = fakeFetch(["cut", "cut", "cut"]);
    const waits: number[] = [];
    await expect(
      downloadFile(URL, dest, { fetch: fetchImpl, attempts: 3, backoffMs: (attempt) => (waits.push(attempt), 0) }),
    ).rejects.toThrow(`Could not download \`${URL}\` to \`${dest}\` after 3 attempts: connection reset`);
    expect(ranges).toHaveLength(3);
    expect(waits).toEqual([1, 2]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("reports the HTTP status", async () => {
    const dir = tempDir();
    const { fetchImpl } = fakeFetch(["404", "404"]);
    await expect(downloadFile(URL, join(dir, "a.parquet"), { fetch: fetchImpl, attempts: 2, backoffMs: noWait })).rejects.toThrow(
      "after 2 attempts: HTTP 404 Not Found",
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it("discards a complete file that fails verification, and names why", async () => {
    const dir = tempDir();
    const { fetchImpl, ranges } = fakeFetch([]);
    const verify = async (path: string) => {
      expect(existsSync(path)).toBe(true);
      throw new Error(`\`${path}\` is not parquet`);
    };
    await expect(downloadFile(URL, join(dir, "a.parquet"), { fetch: fetchImpl, attempts: 2, backoffMs: noWait, verify })).rejects.toThrow(
      "is not parquet",
    );
    // The second attempt started from scratch, not from the rejected file.
    expect(ranges).toEqual([undefined, undefined]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("skips a file that is already there", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a.parquet"), "done");
    const { fetchImpl, ranges } = fakeFetch([]);
    await downloadFile(URL, join(dir, "a.parquet"), { fetch: fetchImpl });
    expect(ranges).toEqual([]);
  });
});
