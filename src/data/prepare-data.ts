import { basename } from "node:path";
import { CLIMBMIX_VAL_SHARD, downloadShards, type DownloadShardsOptions } from "./download-shards.ts";
import { listShards, type ShardList } from "./list-shards.ts";
import type { Profile } from "./profiles.ts";
import { ProgressBar, type ProgressStream } from "./progress-bar.ts";
import type { DataLayout } from "./resolve-data-layout.ts";
import { Tokenizer } from "./tokenizer.ts";
import { loadTokenizer, saveTokenizer } from "./tokenizer-files.ts";
import { trainingTexts } from "./training-texts.ts";
import { validationSeedFile, writeSyntheticShards } from "./write-synthetic-shards.ts";

/** Options for {@link prepareData}. */
export interface PrepareDataOptions {
  /** Where the step-by-step lines go. */
  log?: (line: string) => void;
  /** Where progress bars go. */
  progress?: ProgressStream;
  /** Download settings: attempts, backoff, and the fetch to use (tests pass fakes). */
  download?: Pick<DownloadShardsOptions, "attempts" | "backoffMs" | "fetch">;
}

/**
 * Make `layout` ready for training: get the shards (download, generate or check the local
 * directory), then train and save the tokenizer on the training shards unless it exists.
 * Safe to run again: finished work is kept.
 */
export async function prepareData(profile: Profile, layout: DataLayout, options: PrepareDataOptions = {}): Promise<{ shards: ShardList; tokenizer: Tokenizer }> {
  const { log = console.log, progress } = options;
  const { source } = layout;
  if (source.kind === "climbmix") {
    const indices = [...Array.from({ length: source.trainShards }, (_, i) => i), CLIMBMIX_VAL_SHARD];
    log(`data: ${source.trainShards} training shards + validation shard ${CLIMBMIX_VAL_SHARD} from ${source.baseUrl} into ${layout.shardDir}`);
    await downloadShards(source.baseUrl, indices, layout.shardDir, { ...options.download, progress });
  } else if (source.kind === "synthetic") {
    log(
      `data: synthetic corpus, ${source.trainShards} training shards (seed ${source.seed}) + 1 validation shard ` +
        `(secret seed, kept in ${validationSeedFile(layout.shardDir)}) into ${layout.shardDir}`,
    );
    await writeSyntheticShards(layout.shardDir, source);
  } else log(`data: local shards in ${layout.shardDir}`);
  const shards = await listShards(layout.shardDir);
  log(`data: ${shards.train.length} training shards, validation shard ${basename(shards.val)}`);

  const existing = await loadTokenizer(layout.tokenizerDir, profile.VOCAB_SIZE).catch(() => undefined);
  if (existing) {
    log(`tokenizer: already trained, at ${layout.tokenizerDir}`);
    return { shards, tokenizer: existing };
  }
  log(`tokenizer: training a BPE of ${profile.VOCAB_SIZE} tokens on the training shards`);
  const started = performance.now();
  const bar = new ProgressBar("tokenizer merges", 0, progress, (n) => Math.round(n).toString());
  const tokenizer = await Tokenizer.train(trainingTexts(shards.train), profile.VOCAB_SIZE, {
    onProgress: (merges, total) => {
      bar.setTotal(total);
      bar.update(merges);
    },
  });
  bar.finish();
  checkRoundTrip(tokenizer);
  await saveTokenizer(tokenizer, layout.tokenizerDir, shards.train.map((path) => basename(path)));
  log(`tokenizer: trained in ${((performance.now() - started) / 1000).toFixed(1)} s, saved to ${layout.tokenizerDir}`);
  return { shards, tokenizer };
}

/** The reference's sanity check: a mixed string survives encode and decode. */
function checkRoundTrip(tokenizer: Tokenizer): void {
  const sample = "Hello world! Numbers: 123. Unicode: 你好 🙂";
  const decoded = tokenizer.decode(tokenizer.encode(sample));
  if (decoded !== sample) throw new Error(`Expected the tokenizer to round-trip \`${sample}\`, got \`${decoded}\``);
}
