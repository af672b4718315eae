import { bytePairMerge, PairRanks } from "./byte-pair-merge.ts";
import { splitRegExp } from "./split-pattern.ts";
import { trainBpe, type TrainBpeOptions } from "./train-bpe.ts";

/** The reserved special tokens; their ids follow the mergeable ranks. */
export const SPECIAL_TOKENS = ["<|reserved_0|>", "<|reserved_1|>", "<|reserved_2|>", "<|reserved_3|>"] as const;

/** The token every document starts with. */
export const BOS_TOKEN = SPECIAL_TOKENS[0];

/** Forget the chunk cache past this many entries, so adversarial text cannot grow it without bound. */
const CACHE_LIMIT = 1 << 19;

// A lone surrogate, seen as UTF-16 code units (no `u` flag on purpose).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A byte-level BPE tokenizer with tiktoken's semantics: text is split by the split pattern,
 * each chunk is merged by rank, and special tokens get the ids right after the mergeable ranks.
 * `encode` treats special-token strings in the text as ordinary text, like tiktoken's
 * `encode_ordinary`.
 */
export class Tokenizer {
  /** The bytes of each mergeable token, indexed by rank (= token id). */
  readonly mergeable: readonly Uint8Array[];
  /** Mergeable ranks plus special tokens. */
  readonly vocabSize: number;
  /** Special token name to id. */
  readonly specialTokens: Readonly<Record<string, number>>;
  /** Id of {@link BOS_TOKEN}. */
  readonly bosTokenId: number;
  /** UTF-8 byte length of every token, 0 for the special tokens: the metric's denominator. */
  readonly tokenBytes: Int32Array;

  private readonly ranks = new Map<string, number>();
  private readonly pairs: PairRanks;
  private readonly cache = new Map<string, number | number[]>();
  private readonly splitter = splitRegExp();
  private readonly pieces: number[] = [];
  private buffer = new Int32Array(1 << 16);

  /** @param mergeable the bytes of each mergeable token, indexed by rank; must include all 256 single bytes. */
  constructor(mergeable: readonly Uint8Array[]) {
    this.mergeable = mergeable;
    mergeable.forEach((bytes, rank) => {
      const key = Buffer.from(bytes).toString("latin1");
      if (this.ranks.has(key)) {
        throw new Error(`Expected mergeable tokens to be unique, got \`${key}\` at ranks ${this.ranks.get(key)} and ${rank}`);
      }
      this.ranks.set(key, rank);
    });
    for (let byte = 0; byte < 256; byte++) {
      if (!this.ranks.has(String.fromCharCode(byte))) {
        throw new Error(`Expected mergeable tokens to include every single byte, got none for byte ${byte}`);
      }
    }
    this.pairs = new PairRanks(mergeable, (bytes) => this.ranks.get(bytes));
    const n = mergeable.length;
    this.specialTokens = Object.fromEntries(SPECIAL_TOKENS.map((name, i) => [name, n + i]));
    this.vocabSize = n + SPECIAL_TOKENS.length;
    this.bosTokenId = this.specialTokens[BOS_TOKEN];
    this.tokenBytes = new Int32Array(this.vocabSize);
    mergeable.forEach((bytes, rank) => (this.tokenBytes[rank] = bytes.length));
  }

  /** Train a tokenizer with `vocabSize` tokens in all (mergeable ranks + special tokens). */
  static async train(
    texts: Iterable<string> | AsyncIterable<string>,
    vocabSize: number,
    options?: TrainBpeOptions,
  ): Promise<Tokenizer> {
    const minimum = 256 + SPECIAL_TOKENS.length;
    if (!Number.isInteger(vocabSize) || vocabSize < minimum) {
      throw new Error(`Expected \`vocabSize\` to be an integer >= ${minimum}, got \`${vocabSize}\``);
    }
    return new Tokenizer(await trainBpe(texts, vocabSize - minimum, options));
  }

  /** Parse tiktoken's BPE file format: one `base64(bytes) rank` line per mergeable token. */
  static fromTiktoken(text: string): Tokenizer {
    const lines = text.split("\n").filter((line) => line.length > 0);
    const mergeable: Uint8Array[] = new Array(lines.length);
    lines.forEach((line, i) => {
      const [token, rankText, extra] = line.split(" ");
      const rank = Number(rankText);
      if (extra !== undefined || !Number.isInteger(rank) || rank < 0 || rank >= lines.length || mergeable[rank]) {
        throw new Error(`Expected line ${i + 1} to be \`<base64> <unique rank below ${lines.length}>\`, got \`${line}\``);
      }
      mergeable[rank] = new Uint8Array(Buffer.from(token, "base64"));
    });
    return new Tokenizer(mergeable);
  }

  /** Serialize the mergeable ranks in tiktoken's BPE file format (readable by tiktoken itself). */
  toTiktoken(): string {
    return this.mergeable.map((bytes, rank) => `${Buffer.from(bytes).toString("base64")} ${rank}\n`).join("");
  }

  /**
   * Encode `text` as ordinary text.
   * @param prepend a token id to put first (the BOS id for documents).
   * @throws when `text` is not well-formed UTF-16 (a lone surrogate has no UTF-8 encoding).
   */
  encode(text: string, prepend?: number): Int32Array {
    if (typeof text !== "string") throw new TypeError(`Expected \`text\` to be a string, got \`${typeof text}\``);
    const bad = text.search(LONE_SURROGATE);
    if (bad >= 0) {
      const unit = text.charCodeAt(bad).toString(16).toUpperCase();
      throw new Error(`Expected \`text\` to be well-formed Unicode, got a lone surrogate U+${unit} at index ${bad}`);
    }
    let n = 0;
    if (prepend !== undefined) {
      this.checkId(prepend);
      this.buffer[n++] = prepend;
    }
    for (const chunk of text.match(this.splitter) ?? []) {
      const tokens = this.encodeChunk(chunk);
      // Every chunk adds at most its UTF-8 length (<= 3 per UTF-16 unit) tokens.
      if (n + 3 * chunk.length > this.buffer.length) this.grow(n + 3 * chunk.length);
      if (typeof tokens === "number") this.buffer[n++] = tokens;
      else {
        this.buffer.set(tokens, n);
        n += tokens.length;
      }
    }
    return this.buffer.slice(0, n);
  }

  /** {@link encode} each text. */
  encodeBatch(texts: readonly string[], prepend?: number): Int32Array[] {
    return texts.map((text) => this.encode(text, prepend));
  }

  /** The bytes of `ids` concatenated; special tokens give their names. */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      this.checkId(id);
      const bytes = id < this.mergeable.length ? this.mergeable[id] : Buffer.from(SPECIAL_TOKENS[id - this.mergeable.length]);
      parts.push(bytes);
      length += bytes.length;
    }
    const out = new Uint8Array(length);
    let offset = 0;
    for (const bytes of parts) {
      out.set(bytes, offset);
      offset += bytes.length;
    }
    return out;
  }

  /** Decode `ids` to text; byte sequences that are not valid UTF-8 become U+FFFD, as in tiktoken. */
  decode(ids: ArrayLike<number>): string {
    return new TextDecoder().decode(this.decodeBytes(ids));
  }

  private encodeChunk(chunk: string): number | number[] {
    const cached = this.cache.get(chunk);
    if (cached !== undefined) return cached;
    const bytes = binaryString(chunk);
    // A chunk that is a token is that token, as in tiktoken, even where merging would differ.
    let tokens: number | number[] | undefined = this.ranks.get(bytes);
    if (tokens === undefined) {
      this.pieces.length = 0;
      bytePairMerge(bytes, this.pairs, this.pieces);
      tokens = this.pieces.length === 1 ? this.pieces[0] : this.pieces.slice();
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(chunk, tokens);
    return tokens;
  }

  private grow(minimum: number): void {
    const bigger = new Int32Array(Math.max(minimum, 2 * this.buffer.length));
    bigger.set(this.buffer);
    this.buffer = bigger;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new Error(`Expected a token id to be an integer in [0, ${this.vocabSize}), got \`${id}\``);
    }
  }
}

/** The UTF-8 bytes of `text` as a string with one char per byte, the key type of the rank map. */
function binaryString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) return Buffer.from(text, "utf8").toString("latin1");
  }
  return text;
}
