import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { downloadFile, type DownloadFileOptions } from "./download-file.ts";
import { formatMegabytes, ProgressBar, type ProgressStream } from "./progress-bar.ts";
import { openParquetShard } from "./read-document-batches.ts";

/** The default source: karpathy/climbmix-400b-shuffle on Hugging Face. */
export const CLIMBMIX_URL = "https://huggingface.co/datasets/karpathy/climbmix-400b-shuffle/resolve/main";

/** The last climbmix shard, pinned as the validation shard. */
export const CLIMBMIX_VAL_SHARD = 6542;

/** `shard_00042.parquet` for 42. */
export function shardName(index: number): string {
  return `shard_${String(index).padStart(5, "0")}.parquet`;
}

/** Options for {@link downloadShards}. */
export interface DownloadShardsOptions extends Pick<DownloadFileOptions, "attempts" | "backoffMs" | "fetch"> {
  /** Downloads in flight at once. */
  concurrency?: number;
  /** Where the progress bar goes. */
  progress?: ProgressStream;
}

/**
 * Download the shards `indices` from `baseUrl` into `dir`, skipping those already there.
 * Each shard is checked to be readable parquet with a `text` column before it is kept.
 */
export async function downloadShards(baseUrl: string, indices: readonly number[], dir: string, options: DownloadShardsOptions = {}): Promise<void> {
  const { concurrency = 4, progress, ...fileOptions } = options;
  await mkdir(dir, { recursive: true });
  const present = new Set(await readdir(dir));
  const queue = indices.filter((index) => !present.has(shardName(index)));
  if (queue.length === 0) return;
  const bar = new ProgressBar(`download ${queue.length} shards`, 0, progress, formatMegabytes);
  let estimated = false;
  const total = queue.length;
  const worker = async () => {
    for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
      await downloadFile(`${baseUrl}/${shardName(index)}`, join(dir, shardName(index)), {
        ...fileOptions,
        // Shards are about the same size, so the first one sizes the bar.
        onLength: (bytes) => {
          if (!estimated) bar.setTotal(bytes * total);
          estimated = true;
        },
        onBytes: (bytes) => bar.advance(bytes),
        verify: async (path) => void (await openParquetShard(path)),
      });
    }
  };
  // On a failure, start nothing new but let the downloads in flight finish or clean up.
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(concurrency, total) }, () => worker().catch((error: unknown) => {
      queue.length = 0;
      throw error;
    })),
  );
  bar.finish();
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
}
