import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../src/data/seeded-random.ts";
import { splitText } from "../../src/data/split-pattern.ts";
import { trainBpe } from "../../src/data/train-bpe.ts";

const decoder = new TextDecoder();
const show = (tokens: Uint8Array[]) => tokens.slice(256).map((t) => decoder.decode(t));

/** Textbook BPE: recount every pair of every chunk before each merge. */
function naiveBpe(texts: string[], numMerges: number): string[] {
  const chunkCounts = new Map<string, number>();
  for (const text of texts) for (const c of splitText(text)) chunkCounts.set(c, (chunkCounts.get(c) ?? 0) + 1);
  const words = [...chunkCounts].map(([chunk, count]) => ({ ids: [...Buffer.from(chunk)], count }));
  const bytesOf: number[][] = Array.from({ length: 256 }, (_, b) => [b]);
  const merged: string[] = [];
  for (let m = 0; m < numMerges; m++) {
    const pairCounts = new Map<string, number>();
    for (const { ids, count } of words) {
      for (let i = 0; i + 1 < ids.length; i++) {
        const key = `${ids[i]},${ids[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: [number, number] | undefined;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      const [a, b] = key.split(",").map(Number);
      if (count > bestCount || (count === bestCount && best && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestCount = count;
      }
    }
    if (!best) break;
    const id = 256 + m;
    bytesOf.push([...bytesOf[best[0]], ...bytesOf[best[1]]]);
    merged.push(decoder.decode(Uint8Array.from(bytesOf[id])));
    for (const word of words) {
      const out: number[] = [];
      for (let i = 0; i < word.ids.length; i++) {
        if (i + 1 < word.ids.length && word.ids[i] === best[0] && word.ids[i + 1] === best[1]) {
          out.push(id);
          i++;
        } else out.push(word.ids[i]);
      }
      word.ids = out;
    }
  }
  return merged;
}

function randomTexts(random: SeededRandom, alphabet: string[], count: number): string[] {
  return Array.from({ length: count }, () =>
    Array.from({ length: random.between(1, 60) }, () => random.pick(alphabet)).join(""),
  );
}

describe("trainBpe", () => {
  it("reproduces the textbook example aaabdaaabac", async () => {
    // aa (4) first; then ab and (aa,a) tie at 2 and the smaller id pair (97,98) wins;
    // then (aa,ab) = aaab is the only pair left at 2; then all pairs are at 1 and (97,99) = ac is smallest.
    expect(show(await trainBpe(["aaabdaaabac"], 4))).toEqual(["aa", "ab", "aaab", "ac"]);
  });

  it("counts pairs within chunks only, weighted by how often each chunk occurs", async () => {
    // Chunks: "hug" once, " hug" three times, " pug" once. " h" (3), "hu" (4), "ug" (5): ug wins.
    expect(show(await trainBpe(["hug hug hug hug pug"], 3))).toEqual(["ug", "hug", " hug"]);
  });

  it("keeps the first 256 ids for the single bytes", async () => {
    const tokens = await trainBpe(["abc"], 1);
    expect(tokens.slice(0, 256).map((t) => [...t])).toEqual(Array.from({ length: 256 }, (_, b) => [b]));
    expect(tokens).toHaveLength(257);
  });

  it.each([
    ["runs of one letter", ["a", "a", "a", " ", "b"]],
    ["a small alphabet with punctuation and digits", ["a", "b", "c", " ", "'", "s", ".", "1", "2", "\n"]],
    ["multi-byte characters", ["é", "ü", "中", "文", " ", "a", "🙂"]],
  ])("matches a naive recount-per-merge BPE on random text: %s", async (_name, alphabet) => {
    const random = new SeededRandom(7);
    for (let trial = 0; trial < 5; trial++) {
      const texts = randomTexts(random, alphabet, 40);
      const expected = naiveBpe(texts, 60);
      expect(show(await trainBpe(texts, expected.length))).toEqual(expected);
    }
  });

  it("is deterministic and independent of document order", async () => {
    const random = new SeededRandom(11);
    const texts = randomTexts(random, ["x", "y", "z", " ", "."], 200);
    const first = show(await trainBpe(texts, 80));
    expect(show(await trainBpe(texts, 80))).toEqual(first);
    expect(show(await trainBpe([...texts].reverse(), 80))).toEqual(first);
  });

  it("says when the text runs out of pairs", async () => {
    await expect(trainBpe(["ab ab"], 5)).rejects.toThrow("Expected the training text to support 5 merges, got only 2");
  });

  it("rejects a bad merge count", async () => {
    await expect(trainBpe(["ab"], -1)).rejects.toThrow("Expected `numMerges` to be an integer >= 0, got `-1`");
  });
});
