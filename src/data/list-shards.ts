import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** A data directory's shards, split by the pinned-last-shard rule. */
export interface ShardList {
  /** Every shard but the last, in name order. */
  train: string[];
  /** The last shard in name order: the validation shard. */
  val: string;
}

/** File name endings that count as shards. */
export const SHARD_EXTENSIONS = [".parquet", ".txt"] as const;

/**
 * List the `.parquet` and `.txt` shards of `dir` in name order; the last one is pinned as the
 * validation shard. Hidden files and `.tmp` files (downloads in progress) are skipped.
 */
export async function listShards(dir: string): Promise<ShardList> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new Error(`Expected \`${dir}\` to be a directory of .parquet or .txt shards, but it does not exist`);
  }
  const names = (await readdir(dir))
    .filter((name) => !name.startsWith(".") && SHARD_EXTENSIONS.some((ext) => name.endsWith(ext)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length < 2) {
    throw new Error(
      `Expected \`${dir}\` to hold at least 2 shards (.parquet or .txt; the last is the validation shard), found ${names.length}`,
    );
  }
  const paths = names.map((name) => join(dir, name));
  return { train: paths.slice(0, -1), val: paths[paths.length - 1] };
}
