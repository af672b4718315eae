import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { SPLIT_PATTERN } from "./split-pattern.ts";
import { BOS_TOKEN, Tokenizer } from "./tokenizer.ts";
import { writeFileAtomic } from "./write-file-atomic.ts";

/** Format tag of `tokenizer.json`. */
export const TOKENIZER_FORMAT = "autoresearch-bpe/1";

/** `tokenizer.json`: everything but the ranks, which sit beside it in tiktoken's own format. */
export interface TokenizerInfo {
  format: typeof TOKENIZER_FORMAT;
  pattern: string;
  vocab_size: number;
  special_tokens: Record<string, number>;
  bos_token: string;
  /** File (beside this one) with one `base64(token bytes) rank` line per mergeable token. */
  mergeable_ranks: string;
  /** Names of the shards it was trained on. */
  trained_on: string[];
}

/**
 * Save `tokenizer` into `dir` as `tokenizer.tiktoken` plus `tokenizer.json`. The JSON is
 * written last, so its presence means the tokenizer is complete.
 */
export async function saveTokenizer(tokenizer: Tokenizer, dir: string, trainedOn: string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const info: TokenizerInfo = {
    format: TOKENIZER_FORMAT,
    pattern: SPLIT_PATTERN,
    vocab_size: tokenizer.vocabSize,
    special_tokens: { ...tokenizer.specialTokens },
    bos_token: BOS_TOKEN,
    mergeable_ranks: "tokenizer.tiktoken",
    trained_on: trainedOn,
  };
  await writeFileAtomic(join(dir, info.mergeable_ranks), tokenizer.toTiktoken());
  await writeFileAtomic(join(dir, "tokenizer.json"), `${JSON.stringify(info, null, 2)}\n`);
}

/**
 * Load the tokenizer saved in `dir`.
 * @throws when there is none, or it does not match this code (pattern, specials) or `vocabSize`.
 */
export async function loadTokenizer(dir: string, vocabSize: number): Promise<Tokenizer> {
  const path = join(dir, "tokenizer.json");
  const text = await readFile(path, "utf8").catch(() => {
    throw new Error(`Expected a tokenizer at \`${path}\`, but there is none`);
  });
  let info: TokenizerInfo;
  try {
    info = JSON.parse(text) as TokenizerInfo;
  } catch (error) {
    throw new Error(`Expected \`${path}\` to be JSON, but it is not: ${(error as Error).message}`, { cause: error });
  }
  if (info.format !== TOKENIZER_FORMAT || info.pattern !== SPLIT_PATTERN) {
    throw new Error(`Expected \`${path}\` to be a ${TOKENIZER_FORMAT} tokenizer with the reference split pattern, got format \`${info.format}\``);
  }
  const tokenizer = Tokenizer.fromTiktoken(await readFile(join(dir, info.mergeable_ranks), "utf8"));
  if (tokenizer.vocabSize !== vocabSize || JSON.stringify(info.special_tokens) !== JSON.stringify(tokenizer.specialTokens)) {
    throw new Error(`Expected the tokenizer at \`${path}\` to have VOCAB_SIZE ${vocabSize}, got ${tokenizer.vocabSize}`);
  }
  return tokenizer;
}
