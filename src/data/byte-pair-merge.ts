import { BinaryHeap } from "./binary-heap.ts";

/**
 * Rank of the token made by joining two tokens, for every pair of tokens whose bytes joined
 * are themselves a token, keyed `left * size + right`. With it, merging works on ids alone.
 */
export class PairRanks {
  private readonly table = new Map<number, number>();
  private readonly size: number;

  /**
   * @param tokens the bytes of each token, indexed by rank.
   * @param rankOf the rank of the token with the given bytes (as a one-char-per-byte string).
   */
  constructor(
    tokens: readonly Uint8Array[],
    rankOf: (bytes: string) => number | undefined,
  ) {
    this.size = tokens.length;
    tokens.forEach((bytes, rank) => {
      const key = Buffer.from(bytes).toString("latin1");
      for (let k = 1; k < key.length; k++) {
        const left = rankOf(key.slice(0, k));
        const right = rankOf(key.slice(k));
        if (left !== undefined && right !== undefined) this.table.set(left * this.size + right, rank);
      }
    });
  }

  /** The rank of `left` + `right` joined, or {@link NONE} when that is not a token. */
  get(left: number, right: number): number {
    return this.table.get(left * this.size + right) ?? NONE;
  }
}

/** No rank: the pair does not merge. */
export const NONE = Number.MAX_SAFE_INTEGER;

/** Chunks up to this many bytes use the plain scan; longer ones the heap (no quadratic blow-up). */
const SCAN_LIMIT = 64;

/**
 * Encode one chunk the way tiktoken does: repeatedly merge the adjacent pair of parts whose
 * joined bytes have the lowest rank, leftmost first, until no pair has a rank. Every part is
 * a token all along, so a pair's rank is a lookup in `pairs`, and the merged part's id is
 * that rank.
 *
 * @param bytes the chunk's UTF-8 bytes as a string of one char per byte, at least 2 long.
 * @param out receives the token ids.
 */
export function bytePairMerge(bytes: string, pairs: PairRanks, out: number[]): void {
  if (bytes.length <= SCAN_LIMIT) scanMerge(bytes, pairs, out);
  else heapMerge(bytes, pairs, out);
}

/** O(n^2) in the chunk length, but with tiny constants: what short chunks need. */
function scanMerge(bytes: string, pairs: PairRanks, out: number[]): void {
  // ids[k] is part k; rank[k] the rank of merging part k with part k+1.
  const ids: number[] = [];
  for (let k = 0; k < bytes.length; k++) ids.push(bytes.charCodeAt(k));
  const rank: number[] = [];
  for (let k = 0; k + 1 < ids.length; k++) rank.push(pairs.get(ids[k], ids[k + 1]));
  while (rank.length > 0) {
    let best = 0;
    for (let k = 1; k < rank.length; k++) if (rank[k] < rank[best]) best = k;
    if (rank[best] === NONE) break;
    ids[best] = rank[best];
    ids.splice(best + 1, 1);
    rank.splice(best, 1);
    if (best < rank.length) rank[best] = pairs.get(ids[best], ids[best + 1]);
    if (best > 0) rank[best - 1] = pairs.get(ids[best - 1], ids[best]);
  }
  for (const id of ids) out.push(id);
}

/**
 * The same merges in O(n log n): parts form a linked list, candidate merges sit in a min-heap
 * keyed by (rank, start), and entries made stale by a neighbour's merge are skipped.
 */
function heapMerge(bytes: string, pairs: PairRanks, out: number[]): void {
  const n = bytes.length;
  // Parts are identified by their start offset, which never changes while the part lives.
  const id = Int32Array.from({ length: n }, (_, i) => bytes.charCodeAt(i));
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  const current = new Float64Array(n);
  // Lowest rank first; the smaller start breaks ties, so the leftmost part merges first.
  const heap = new BinaryHeap((rankA, startA, rankB, startB) => (rankA !== rankB ? rankA < rankB : startA < startB));
  const refresh = (i: number) => {
    current[i] = next[i] < n ? pairs.get(id[i], id[next[i]]) : NONE;
    if (current[i] !== NONE) heap.push(current[i], i);
  };
  for (let i = 0; i < n; i++) refresh(i);
  while (heap.size > 0) {
    const r = heap.topKey;
    const i = heap.topValue;
    heap.pop();
    if (!alive[i] || current[i] !== r) continue;
    const j = next[i];
    alive[j] = 0;
    id[i] = r;
    next[i] = next[j];
    if (next[j] < n) prev[next[j]] = i;
    refresh(i);
    if (prev[i] >= 0) refresh(prev[i]);
  }
  for (let i = 0; i < n; i = next[i]) out.push(id[i]);
}
