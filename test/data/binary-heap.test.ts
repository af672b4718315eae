import { describe, expect, it } from "vitest";
import { BinaryHeap } from "../../src/data/binary-heap.ts";
import { SeededRandom } from "../../src/data/seeded-random.ts";

describe("BinaryHeap", () => {
  it("pops pairs in the order `before` defines, like a sort", () => {
    const random = new SeededRandom(8);
    const pairs = Array.from({ length: 500 }, () => [random.int(20), random.int(1000)] as [number, number]);
    const heap = new BinaryHeap((ka, va, kb, vb) => (ka !== kb ? ka > kb : va < vb));
    for (const [key, value] of pairs) heap.push(key, value);
    const popped: Array<[number, number]> = [];
    while (heap.size > 0) {
      popped.push([heap.topKey, heap.topValue]);
      heap.pop();
    }
    expect(popped).toEqual([...pairs].sort((a, b) => b[0] - a[0] || a[1] - b[1]));
  });

  it("takes pushes between pops", () => {
    const heap = new BinaryHeap((ka, _va, kb) => ka < kb);
    heap.push(5, 0);
    heap.push(2, 1);
    heap.pop();
    heap.push(1, 2);
    heap.push(9, 3);
    expect([heap.topKey, heap.topValue, heap.size]).toEqual([1, 2, 3]);
  });
});
