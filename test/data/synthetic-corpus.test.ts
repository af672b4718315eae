import { describe, expect, it } from "vitest";
import { syntheticDocuments } from "../../src/data/synthetic-corpus.ts";

function take(seed: number, n: number): string[] {
  const docs: string[] = [];
  for (const doc of syntheticDocuments(seed)) {
    docs.push(doc);
    if (docs.length === n) break;
  }
  return docs;
}

const NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve".split(" ");

describe("syntheticDocuments", () => {
  const docs = take(1, 3000);
  const text = docs.join("\n");

  it("is deterministic for a seed and differs between seeds", () => {
    expect(take(1, 50)).toEqual(docs.slice(0, 50));
    expect(take(2, 50)).not.toEqual(docs.slice(0, 50));
  });

  it("writes other documents about the same invented words from another stream seed", () => {
    const definitions = (text: string) => new Map([...text.matchAll(/^(\w+) \(noun\): (.*)$/gm)].map(([, word, definition]) => [word, definition]));
    const other: string[] = [];
    for (const doc of syntheticDocuments(1, 987654321)) if (other.push(doc) === 3000) break;
    expect(other.slice(0, 50)).not.toEqual(docs.slice(0, 50));
    const [mine, theirs] = [definitions(text), definitions(other.join("\n"))];
    const shared = [...theirs.keys()].filter((word) => mine.has(word));
    expect(shared.length).toBeGreaterThan(250);
    for (const word of shared) expect(theirs.get(word)).toBe(mine.get(word));
  });

  it("makes documents of very different lengths", () => {
    const lengths = docs.map((d) => d.length).sort((a, b) => a - b);
    expect(lengths[0]).toBeLessThan(100);
    expect(lengths.at(-1)).toBeGreaterThan(2000);
    expect(docs.every((d) => d.trim() === d && d.length > 0)).toBe(true);
  });

  it("has sums that add up", () => {
    const stories = [...text.matchAll(/had (\w+) \w+ and found (\w+) more, so now \w+ \w+ (\d+) /g)];
    const equations = [...text.matchAll(/(\d+) minus (\d+) is (\d+), and (\d+) plus (\d+) is (\d+)\./g)];
    expect(stories.length).toBeGreaterThan(100);
    expect(equations.length).toBeGreaterThan(100);
    for (const [, a, b, total] of stories) expect(NUMBERS.indexOf(a) + NUMBERS.indexOf(b)).toBe(Number(total));
    for (const [, sum, b, a, a2, b2, sum2] of equations) {
      expect(Number(sum) - Number(b)).toBe(Number(a));
      expect([a2, b2, sum2]).toEqual([a, b, sum]);
    }
  });

  it("never changes what an invented word means", () => {
    const colorOf = new Map<string, string>();
    const facts = [...text.matchAll(/^(\w+) \(noun\): a (\w+) /gm), ...text.matchAll(/A (\w+) is (\w+)\./g)];
    expect(facts.length).toBeGreaterThan(500);
    for (const [, word, color] of facts) {
      expect(colorOf.get(word) ?? color).toBe(color);
      colorOf.set(word, color);
    }
  });

  it("keeps each story's pronouns agreeing with their verbs", () => {
    expect(text).not.toMatch(/\b(she|he) (are|have)\b/i);
    expect(text).not.toMatch(/\bthey (is|has)\b/i);
    expect(text).toMatch(/\bthey are\b/i);
  });
});
