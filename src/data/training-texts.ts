import { readDocumentBatches } from "./read-document-batches.ts";

/** Options for {@link trainingTexts}; the defaults are the reference's. */
export interface TrainingTextsOptions {
  /** Characters (code points) kept from the start of each document. */
  docCap?: number;
  /** Stop once this many characters (code points) have been yielded. */
  maxChars?: number;
}

/**
 * The tokenizer's training text: the documents of `trainShards` in order, each capped at
 * `docCap` characters, until `maxChars` characters in all. Pass training shards only: the
 * validation shard must never shape the tokenizer.
 */
export async function* trainingTexts(trainShards: readonly string[], options: TrainingTextsOptions = {}): AsyncGenerator<string> {
  const { docCap = 10_000, maxChars = 1e9 } = options;
  let chars = 0;
  for (const path of trainShards) {
    for await (const docs of readDocumentBatches(path)) {
      for (const doc of docs) {
        const capped = capCodePoints(doc, docCap);
        chars += countCodePoints(capped);
        yield capped;
        if (chars >= maxChars) return;
      }
    }
  }
}

/** The first `cap` code points of `text` (Python's `text[:cap]`), never splitting a surrogate pair. */
export function capCodePoints(text: string, cap: number): string {
  if (text.length <= cap) return text;
  let units = 0;
  for (let points = 0; points < cap && units < text.length; points++) units += isPairAt(text, units) ? 2 : 1;
  return text.slice(0, units);
}

function countCodePoints(text: string): number {
  let pairs = 0;
  for (let i = 0; i < text.length; i++) if (isPairAt(text, i)) pairs++;
  return text.length - pairs;
}

function isPairAt(text: string, i: number): boolean {
  const unit = text.charCodeAt(i);
  if (unit < 0xd800 || unit > 0xdbff) return false;
  const next = text.charCodeAt(i + 1);
  return next >= 0xdc00 && next <= 0xdfff;
}
