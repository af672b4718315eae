import { BinaryHeap } from "./binary-heap.ts";
import { splitRegExp } from "./split-pattern.ts";

/** Options for {@link trainBpe}. */
export interface TrainBpeOptions {
  /** Called now and then with the number of merges done so far. */
  onProgress?: (merges: number, total: number) => void;
}

/**
 * Train a byte-level BPE on `texts`, split into chunks by the split pattern.
 *
 * Token ids 0..255 are the single bytes, and merge `m` creates id `256 + m`. Each step merges
 * the most frequent adjacent pair; ties go to the smallest `(left, right)` id pair, so the
 * result depends only on the text. Pair counts are updated incrementally after each merge:
 * only the words that contain the merged pair are touched.
 *
 * @param texts read once, as they come, so they need not fit in memory together.
 * @returns the bytes of every token, indexed by id (= tiktoken rank), 256 + `numMerges` long.
 * @throws when the text runs out of pairs before `numMerges` merges.
 */
export async function trainBpe(
  texts: Iterable<string> | AsyncIterable<string>,
  numMerges: number,
  options: TrainBpeOptions = {},
): Promise<Uint8Array[]> {
  if (!Number.isInteger(numMerges) || numMerges < 0) {
    throw new Error(`Expected \`numMerges\` to be an integer >= 0, got \`${numMerges}\``);
  }
  const words = Words.fromChunkCounts(await countChunks(texts));
  const tokens: Uint8Array[] = Array.from({ length: 256 }, (_, byte) => Uint8Array.of(byte));
  const pairs = new PairTable(256 + numMerges);
  words.countPairs(pairs);
  const heap = new PairHeap(pairs);
  for (let p = 0; p < pairs.size; p++) heap.push(pairs.count[p], p);

  for (let m = 0; m < numMerges; m++) {
    const best = heap.popBest();
    if (best < 0) {
      throw new Error(`Expected the training text to support ${numMerges} merges, got only ${m}: it has no pairs left`);
    }
    const left = pairs.left[best];
    const right = pairs.right[best];
    const id = 256 + m;
    tokens.push(concatBytes(tokens[left], tokens[right]));
    words.merge(best, id, pairs);
    for (const p of pairs.takeTouched()) if (pairs.count[p] > 0) heap.push(pairs.count[p], p);
    if (options.onProgress && (m % 256 === 255 || m === numMerges - 1)) options.onProgress(m + 1, numMerges);
  }
  return tokens;
}

/** Count how often each pre-tokenizer chunk occurs. */
async function countChunks(texts: Iterable<string> | AsyncIterable<string>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const re = splitRegExp();
  for await (const text of texts) {
    re.lastIndex = 0;
    for (let match = re.exec(text); match !== null; match = re.exec(text)) {
      const chunk = match[0];
      counts.set(chunk, (counts.get(chunk) ?? 0) + 1);
    }
  }
  return counts;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Every distinct pair ever seen, with its weighted count and the words it was created in.
 * The word lists are append-only; a word whose pair was merged away stays listed and is
 * simply found not to contain it any more.
 */
class PairTable {
  readonly left: number[] = [];
  readonly right: number[] = [];
  readonly count: number[] = [];
  readonly words: number[][] = [];
  private readonly lastWord: number[] = [];
  private readonly index = new Map<number, number>();
  private touched: number[] = [];
  private readonly isTouched: boolean[] = [];

  constructor(private readonly maxId: number) {}

  get size(): number {
    return this.left.length;
  }

  /** Add `weight` occurrences of `(a, b)` found in `word`. */
  add(a: number, b: number, weight: number, word: number): void {
    const key = a * this.maxId + b;
    let p = this.index.get(key);
    if (p === undefined) {
      p = this.left.length;
      this.index.set(key, p);
      this.left.push(a);
      this.right.push(b);
      this.count.push(0);
      this.words.push([]);
      this.lastWord.push(-1);
      this.isTouched.push(false);
    }
    this.count[p] += weight;
    if (this.lastWord[p] !== word) {
      this.lastWord[p] = word;
      this.words[p].push(word);
    }
    if (!this.isTouched[p]) {
      this.isTouched[p] = true;
      this.touched.push(p);
    }
  }

  /** Remove `weight` occurrences of `(a, b)`, which must exist. */
  remove(a: number, b: number, weight: number): void {
    this.count[this.index.get(a * this.maxId + b)!] -= weight;
  }

  /** The pairs whose count went up since the last call. */
  takeTouched(): number[] {
    const touched = this.touched;
    this.touched = [];
    for (const p of touched) this.isTouched[p] = false;
    return touched;
  }
}

/** The unique chunks as symbol sequences, stored back to back and shrunk in place by merges. */
class Words {
  private readonly seen: Int32Array;
  private stamp = 0;

  private constructor(
    private readonly symbols: Int32Array,
    private readonly start: Int32Array,
    private readonly length: Int32Array,
    private readonly weight: Float64Array,
  ) {
    this.seen = new Int32Array(start.length);
  }

  static fromChunkCounts(counts: Map<string, number>): Words {
    const encoder = new TextEncoder();
    const encoded: Uint8Array[] = [];
    let total = 0;
    for (const chunk of counts.keys()) {
      const bytes = encoder.encode(chunk);
      encoded.push(bytes);
      total += bytes.length;
    }
    const symbols = new Int32Array(total);
    const start = new Int32Array(encoded.length);
    const length = new Int32Array(encoded.length);
    const weight = Float64Array.from(counts.values());
    let offset = 0;
    encoded.forEach((bytes, w) => {
      symbols.set(bytes, offset);
      start[w] = offset;
      length[w] = bytes.length;
      offset += bytes.length;
    });
    return new Words(symbols, start, length, weight);
  }

  countPairs(pairs: PairTable): void {
    const s = this.symbols;
    for (let w = 0; w < this.start.length; w++) {
      const end = this.start[w] + this.length[w];
      for (let i = this.start[w]; i + 1 < end; i++) pairs.add(s[i], s[i + 1], this.weight[w], w);
    }
    pairs.takeTouched();
  }

  /** Replace every occurrence of pair `p` by `id`, updating the counts of the neighbouring pairs. */
  merge(p: number, id: number, pairs: PairTable): void {
    const a = pairs.left[p];
    const b = pairs.right[p];
    const s = this.symbols;
    this.stamp++;
    for (const w of pairs.words[p]) {
      if (this.seen[w] === this.stamp) continue;
      this.seen[w] = this.stamp;
      const weight = this.weight[w];
      const begin = this.start[w];
      const end = begin + this.length[w];
      let out = begin;
      let previousMerged = false;
      for (let i = begin; i < end; ) {
        if (i + 1 < end && s[i] === a && s[i + 1] === b) {
          pairs.remove(a, b, weight);
          if (out > begin) {
            // The pair on our left: (b, a) if the previous occurrence was merged, else (x, a).
            pairs.remove(previousMerged ? b : s[out - 1], a, weight);
            pairs.add(s[out - 1], id, weight, w);
          }
          // The pair on our right, unless the next occurrence will handle it as its left pair.
          const nextMerges = i + 3 < end && s[i + 2] === a && s[i + 3] === b;
          if (i + 2 < end && !nextMerges) {
            pairs.remove(b, s[i + 2], weight);
            pairs.add(id, s[i + 2], weight, w);
          }
          s[out++] = id;
          i += 2;
          previousMerged = true;
        } else {
          s[out++] = s[i++];
          previousMerged = false;
        }
      }
      this.length[w] = out - begin;
    }
    pairs.words[p] = [];
  }
}

/**
 * A max-heap of (count, pair) with lazy invalidation: an entry whose count no longer matches
 * the table is re-pushed with the current count when it surfaces.
 */
class PairHeap {
  private readonly heap: BinaryHeap;

  constructor(private readonly pairs: PairTable) {
    const { left, right } = pairs;
    // Highest count first; ties go to the smaller (left, right) id pair.
    this.heap = new BinaryHeap((countA, a, countB, b) =>
      countA !== countB ? countA > countB : left[a] !== left[b] ? left[a] < left[b] : right[a] < right[b],
    );
  }

  push(count: number, p: number): void {
    this.heap.push(count, p);
  }

  /** Pop the pair with the highest current count (smallest ids on ties); -1 when none is left. */
  popBest(): number {
    while (this.heap.size > 0) {
      const count = this.heap.topKey;
      const p = this.heap.topValue;
      this.heap.pop();
      const current = this.pairs.count[p];
      if (current === count && count > 0) return p;
      if (current > 0) this.heap.push(current, p);
    }
    return -1;
  }
}
