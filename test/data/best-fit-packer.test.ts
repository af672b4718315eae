import { describe, expect, it } from "vitest";
import { BestFitPacker } from "../../src/data/best-fit-packer.ts";
import { SeededRandom } from "../../src/data/seeded-random.ts";

const BOS = -1;

/**
 * Documents whose tokens say where they come from: BOS, then 1000 * docIndex + position.
 * So any row can be checked for being whole documents plus one cropped document.
 */
function makeDocs(random: SeededRandom, count: number, maxLength: number): Int32Array[] {
  return Array.from({ length: count }, (_, d) => {
    const length = random.between(1, maxLength);
    return Int32Array.from({ length }, (_, i) => (i === 0 ? BOS : 1000 * d + i));
  });
}

/**
 * The reference algorithm written as plainly as possible: before each pick, while the buffer
 * holds fewer than `bufferSize` documents, add the next batch of 128; sort the candidates that fit by (length desc, buffer position asc) and
 * take the first; if none fits, sort all by (length asc, position asc) and crop the first.
 */
function bruteForce(docs: Int32Array[], batchSize: number, seqLen: number, bufferSize: number, batches: number): number[][][] {
  const source = [...docs];
  const buffer: number[][] = [];
  const out: number[][][] = [];
  for (let b = 0; b < batches; b++) {
    const rows: number[][] = [];
    for (let r = 0; r < batchSize; r++) {
      const row: number[] = [];
      while (row.length < seqLen + 1) {
        while (buffer.length < bufferSize && source.length > 0) buffer.push(...source.splice(0, 128).map((doc) => [...doc]));
        const remaining = seqLen + 1 - row.length;
        const indexed = buffer.map((doc, position) => ({ doc, position }));
        const fits = indexed.filter(({ doc }) => doc.length <= remaining).sort((x, y) => y.doc.length - x.doc.length || x.position - y.position);
        if (fits.length > 0) {
          row.push(...fits[0].doc);
          buffer.splice(fits[0].position, 1);
        } else {
          const shortest = indexed.sort((x, y) => x.doc.length - y.doc.length || x.position - y.position)[0];
          row.push(...shortest.doc.slice(0, remaining));
          buffer.splice(shortest.position, 1);
        }
      }
      rows.push(row);
    }
    out.push(rows);
  }
  return out;
}

/** Run the packer, feeding it `docs` 128 at a time whenever it asks. */
function pack(docs: Int32Array[], batchSize: number, seqLen: number, bufferSize: number, batches: number): number[][][] {
  const packer = new BestFitPacker(batchSize, seqLen, bufferSize);
  const out: number[][][] = [];
  let next = 0;
  while (out.length < batches) {
    const result = packer.pack();
    if (result === "docs") {
      if (next >= docs.length) packer.finish();
      packer.push(docs.slice(next, next + 128));
      next += 128;
    } else if (result === "done") break;
    else out.push(Array.from({ length: batchSize }, (_, r) => [...result.subarray(r * (seqLen + 1), (r + 1) * (seqLen + 1))]));
  }
  return out;
}

describe("BestFitPacker", () => {
  it.each([
    { batchSize: 4, seqLen: 16, bufferSize: 7, maxLength: 12 },
    { batchSize: 3, seqLen: 64, bufferSize: 50, maxLength: 200 },
    { batchSize: 8, seqLen: 128, bufferSize: 1000, maxLength: 300 },
    { batchSize: 2, seqLen: 32, bufferSize: 20, maxLength: 3 },
  ])("matches a brute-force reference on random document lengths: %o", ({ batchSize, seqLen, bufferSize, maxLength }) => {
    const random = new SeededRandom(batchSize * 1009 + seqLen);
    const docs = makeDocs(random, 3000, maxLength);
    const expected = bruteForce(docs, batchSize, seqLen, bufferSize, 6);
    expect(pack(docs, batchSize, seqLen, bufferSize, 6)).toEqual(expected);
  });

  it("never pads: each row starts with BOS and is whole documents plus at most one cropped at the end", () => {
    const random = new SeededRandom(3);
    const docs = makeDocs(random, 5000, 150);
    const seen = new Set<number>();
    for (const rows of pack(docs, 16, 100, 1000, 20)) {
      for (const row of rows) {
        expect(row).toHaveLength(101);
        expect(row[0]).toBe(BOS);
        const starts = row.flatMap((token, i) => (token === BOS ? [i] : []));
        starts.forEach((start, k) => {
          const end = k + 1 < starts.length ? starts[k + 1] : row.length;
          const docIndex = Math.floor(row[start + 1] / 1000);
          const doc = end - start > 1 ? docs[docIndex] : undefined;
          const piece = row.slice(start, end);
          if (doc) {
            expect(piece).toEqual([...doc.subarray(0, piece.length)]);
            expect(seen.has(docIndex)).toBe(false);
            seen.add(docIndex);
            // Only the last document of a row may be cropped.
            if (k + 1 < starts.length) expect(piece).toHaveLength(doc.length);
          }
        });
      }
    }
  });

  it("prefers the longest fitting document, the earlier one on ties, and crops only when nothing fits", () => {
    const packer = new BestFitPacker(1, 5, 1);
    packer.push([Int32Array.of(BOS, 1, 2), Int32Array.of(BOS, 3, 4, 5, 6, 7, 8), Int32Array.of(BOS, 9, 10), Int32Array.of(BOS, 11)]);
    packer.finish();
    // Capacity 6: two 3-token docs fit and the earlier goes first; then the other fills the row.
    expect([...(packer.pack() as Int32Array)]).toEqual([BOS, 1, 2, BOS, 9, 10]);
    // Then the 2-token doc; the 7-token doc never fits, so being the shortest left it is cropped.
    expect([...(packer.pack() as Int32Array)]).toEqual([BOS, 11, BOS, 3, 4, 5]);
    expect(packer.pack()).toBe("done");
  });

  it("drains the buffer after finish and then says done, dropping a partial batch", () => {
    const packer = new BestFitPacker(2, 3, 1000);
    packer.push([Int32Array.of(BOS, 1, 2, 3), Int32Array.of(BOS, 4, 5)]);
    expect(packer.pack()).toBe("docs");
    packer.finish();
    expect(packer.pack()).toBe("done");
  });

  it("rejects bad sizes and empty documents", () => {
    expect(() => new BestFitPacker(0, 8)).toThrow("Expected `batchSize` to be an integer >= 1, got `0`");
    expect(() => new BestFitPacker(1, 2.5)).toThrow("Expected `seqLen` to be an integer >= 1, got `2.5`");
    expect(() => new BestFitPacker(1, 8, -1)).toThrow("Expected `bufferSize` to be an integer >= 1, got `-1`");
    expect(() => new BestFitPacker(1, 8).push([new Int32Array(0)])).toThrow("Expected every document to hold at least one token");
  });
});
