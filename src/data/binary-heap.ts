/**
 * A binary heap of (key, value) number pairs, ordered by `before`: the pair for which
 * `before` holds against every other comes out first.
 */
export class BinaryHeap {
  private readonly keys: number[] = [];
  private readonly values: number[] = [];

  constructor(private readonly before: (keyA: number, valueA: number, keyB: number, valueB: number) => boolean) {}

  get size(): number {
    return this.keys.length;
  }

  /** The first key; the heap must not be empty. */
  get topKey(): number {
    return this.keys[0];
  }

  /** The first value; the heap must not be empty. */
  get topValue(): number {
    return this.values[0];
  }

  push(key: number, value: number): void {
    this.keys.push(key);
    this.values.push(value);
    let i = this.keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.ranksAbove(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Remove the first pair (read it with `topKey`/`topValue` before). */
  pop(): void {
    const lastKey = this.keys.pop()!;
    const lastValue = this.values.pop()!;
    const n = this.keys.length;
    if (n === 0) return;
    this.keys[0] = lastKey;
    this.values[0] = lastValue;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      let best = i;
      if (l < n && this.ranksAbove(l, best)) best = l;
      if (l + 1 < n && this.ranksAbove(l + 1, best)) best = l + 1;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }

  private ranksAbove(i: number, j: number): boolean {
    return this.before(this.keys[i], this.values[i], this.keys[j], this.values[j]);
  }

  private swap(i: number, j: number): void {
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
    [this.values[i], this.values[j]] = [this.values[j], this.values[i]];
  }
}
