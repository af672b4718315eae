// Test helpers (not a test): temporary directories and small shards written in the test.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterEach } from "vitest";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the current test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "autoresearch-data-"));
  made.push(dir);
  return dir;
}

/** The bytes of a parquet file with one string column (`text` unless named otherwise). */
export function parquetBytes(docs: Array<string | null>, options: { rowGroupSize?: number; column?: string } = {}): Uint8Array {
  const buffer = parquetWriteBuffer({
    columnData: [{ name: options.column ?? "text", data: docs, type: "STRING", nullable: docs.includes(null) }],
    rowGroupSize: options.rowGroupSize,
  });
  return new Uint8Array(buffer);
}

/** Write `docs` as a parquet shard at `path`. */
export function writeParquetShard(path: string, docs: Array<string | null>, options?: { rowGroupSize?: number; column?: string }): string {
  writeFileSync(path, parquetBytes(docs, options));
  return path;
}

/** Write `docs` as a `.txt` shard at `path`. */
export function writeTextShard(path: string, docs: string[]): string {
  writeFileSync(path, docs.join("\n<|endoftext|>\n"));
  return path;
}

/** The first `limit` items of an async stream (all of them by default), stopping the stream after. */
export async function collect<T>(stream: AsyncIterable<T>, limit = Infinity): Promise<T[]> {
  const out: T[] = [];
  if (limit <= 0) return out;
  for await (const item of stream) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}
