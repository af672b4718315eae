/** Chunks up to this many bytes use the plain scan; longer ones the heap (no quadratic blow-up). */
const SCAN_LIMIT = 64;

/**
 * Encode one chunk the way tiktoken does: repeatedly merge the adjacent pair of parts whose
 * concatenated bytes have the lowest rank, leftmost first, until no pair has a rank.
 *
 * @param bytes the chunk's UTF-8 bytes as a "binary" string (one char per byte), at least 2 long.
 * @param ranks rank of each token, keyed by its binary string.
 * @param out receives the token ids.
 */
export function bytePairMerge(bytes: string, ranks: Map<string, number>, out: number[]): void {
  if (bytes.length <= SCAN_LIMIT) scanMerge(bytes, ranks, out);
  else heapMerge(bytes, ranks, out);
}

const NONE = Number.MAX_SAFE_INTEGER;

/** O(n^2) in the chunk length, but with tiny constants: what short chunks need. */
function scanMerge(bytes: string, ranks: Map<string, number>, out: number[]): void {
  // starts[k] is where part k begins; rank[k] the rank of merging part k with part k+1.
  const starts: number[] = [];
  const rank: number[] = [];
  for (let i = 0; i <= bytes.length; i++) starts.push(i);
  for (let k = 0; k + 1 < bytes.length; k++) rank.push(ranks.get(bytes.slice(k, k + 2)) ?? NONE);
  const rankAt = (k: number): number =>
    k + 2 < starts.length ? (ranks.get(bytes.slice(starts[k], starts[k + 2])) ?? NONE) : NONE;
  while (rank.length > 0) {
    let best = 0;
    for (let k = 1; k < rank.length; k++) if (rank[k] < rank[best]) best = k;
    if (rank[best] === NONE) break;
    starts.splice(best + 1, 1);
    rank.splice(best, 1);
    if (best < rank.length) rank[best] = rankAt(best);
    if (best > 0) rank[best - 1] = rankAt(best - 1);
  }
  for (let k = 0; k + 1 < starts.length; k++) out.push(ranks.get(bytes.slice(starts[k], starts[k + 1]))!);
}

/**
 * The same merges in O(n log n): parts form a linked list, candidate merges sit in a min-heap
 * keyed by (rank, start), and entries made stale by a neighbour's merge are skipped.
 */
function heapMerge(bytes: string, ranks: Map<string, number>, out: number[]): void {
  const n = bytes.length;
  // Parts are identified by their start offset, which never changes while the part lives.
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  const heap = new MinHeap();
  const pairRank = (i: number): number => (next[i] < n ? (ranks.get(bytes.slice(i, next[next[i]])) ?? NONE) : NONE);
  const current = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    current[i] = pairRank(i);
    if (current[i] !== NONE) heap.push(current[i], i);
  }
  while (heap.size > 0) {
    const [r, i] = heap.pop();
    if (!alive[i] || current[i] !== r) continue;
    const j = next[i];
    alive[j] = 0;
    next[i] = next[j];
    if (next[j] < n) prev[next[j]] = i;
    current[i] = pairRank(i);
    if (current[i] !== NONE) heap.push(current[i], i);
    const p = prev[i];
    if (p >= 0) {
      current[p] = pairRank(p);
      if (current[p] !== NONE) heap.push(current[p], p);
    }
  }
  for (let i = 0; i < n; i = next[i]) out.push(ranks.get(bytes.slice(i, next[i]))!);
}

/** Min-heap of (rank, start); start breaks ties so the leftmost part merges first. */
class MinHeap {
  private readonly keys: number[] = [];
  private readonly values: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(key: number, value: number): void {
    this.keys.push(key);
    this.values.push(value);
    let i = this.keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, number] {
    const top: [number, number] = [this.keys[0], this.values[0]];
    const lastKey = this.keys.pop()!;
    const lastValue = this.values.pop()!;
    const n = this.keys.length;
    if (n > 0) {
      this.keys[0] = lastKey;
      this.values[0] = lastValue;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        let best = i;
        if (l < n && this.less(l, best)) best = l;
        if (l + 1 < n && this.less(l + 1, best)) best = l + 1;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }

  private less(i: number, j: number): boolean {
    return this.keys[i] !== this.keys[j] ? this.keys[i] < this.keys[j] : this.values[i] < this.values[j];
  }

  private swap(i: number, j: number): void {
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
    [this.values[i], this.values[j]] = [this.values[j], this.values[i]];
  }
}
