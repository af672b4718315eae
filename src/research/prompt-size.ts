import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Tokenizer } from "../data/tokenizer.ts";
import type { ChatMessage } from "./build-prompt.ts";

/** The size of a prompt: characters, and tokens where a tokenizer could be loaded. */
export interface PromptSize {
  chars: number;
  /** Null when no tokenizer is available (see {@link promptTokenizer}). */
  tokens: number | null;
}

/** What {@link measurePrompt} counts tokens with, for logs and benchmarks. */
export const PROMPT_TOKENIZER = "cl100k_base ranks in the project's BPE tokenizer (src/data/tokenizer.ts)";

const RANKS = "tiktoken/encoders/cl100k_base.json";
let loaded: Tokenizer | null | undefined;

/**
 * The project's own tokenizer loaded with OpenAI's cl100k_base ranks, read offline from the
 * ranks file the `tiktoken` package ships (its data only: tiktoken's code never runs). Its split
 * pattern groups digits by two where cl100k groups them by three, so counts differ slightly from
 * cl100k's. Null where that file is not installed (a production install without dev
 * dependencies): prompts are then measured in characters only.
 */
export function promptTokenizer(): Tokenizer | null {
  if (loaded !== undefined) return loaded;
  let path: string;
  try {
    path = createRequire(import.meta.url).resolve(RANKS);
  } catch {
    return (loaded = null);
  }
  const { bpe_ranks: ranks } = JSON.parse(readFileSync(path, "utf8")) as { bpe_ranks: string };
  // Each line: a label, the rank of its first token, then base64 tokens with consecutive ranks.
  const byRank: Uint8Array[] = [];
  for (const line of ranks.split("\n")) {
    const [, first, ...tokens] = line.split(" ");
    tokens.forEach((token, i) => (byRank[Number(first) + i] = new Uint8Array(Buffer.from(token, "base64"))));
  }
  // The project's tokenizer wants byte b at id b. Moving the single bytes there and keeping the
  // order of every longer token keeps which merge wins, so the counts are cl100k's; the ids are not.
  const singles: Uint8Array[] = [];
  const longer: Uint8Array[] = [];
  for (const bytes of byRank) {
    if (bytes.length === 1) singles[bytes[0]!] = bytes;
    else longer.push(bytes);
  }
  return (loaded = new Tokenizer([...singles, ...longer]));
}

// Token counts of recent message texts: program.md and the files repeat from request to request.
const counted = new Map<string, number>();

function countTokens(tokenizer: Tokenizer, text: string): number {
  let n = counted.get(text);
  if (n === undefined) {
    n = tokenizer.encode(text).length;
    if (counted.size >= 16) counted.delete(counted.keys().next().value!);
    counted.set(text, n);
  }
  return n;
}

/** Characters and tokens of the messages' contents (without the chat template's few tokens per message). */
export function measurePrompt(messages: readonly ChatMessage[]): PromptSize {
  const tokenizer = promptTokenizer();
  const chars = messages.reduce((n, m) => n + m.content.length, 0);
  const tokens = tokenizer ? messages.reduce((n, m) => n + countTokens(tokenizer, m.content), 0) : null;
  return { chars, tokens };
}

/** `61,234 chars, 15,321 tokens`: a prompt's size for a log line. */
export function formatPromptSize({ chars, tokens }: PromptSize): string {
  const count = (n: number) => n.toLocaleString("en-US");
  return tokens === null ? `${count(chars)} chars` : `${count(chars)} chars, ${count(tokens)} tokens`;
}
