import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EncodePool, sharedEncoder } from "../../src/data/encode-pool.ts";
import { SeededRandom } from "../../src/data/seeded-random.ts";
import { Tokenizer } from "../../src/data/tokenizer.ts";

const random = new SeededRandom(4);
const pieces = ["lorem", "ipsum", " dolor", "sit", "amet", "🙂", "naïve", "42", "\n", "東京"];
const texts = Array.from({ length: 300 }, () => Array.from({ length: random.between(0, 80) }, () => random.pick(pieces)).join(" "));
let tokenizer: Tokenizer;
let pool: EncodePool;

beforeAll(async () => {
  tokenizer = await Tokenizer.train(texts, 300);
  pool = await EncodePool.create(tokenizer, 3);
});
afterAll(() => pool?.close());

const plain = (encoded: Int32Array[]) => encoded.map((ids) => [...ids]);

describe("EncodePool", () => {
  it("gives the same ids, in the same order, as encoding on this thread", async () => {
    expect(pool.threads).toBe(3);
    expect(plain(await pool.encodeBatch(texts, tokenizer.bosTokenId))).toEqual(plain(tokenizer.encodeBatch(texts, tokenizer.bosTokenId)));
    expect(plain(await pool.encodeBatch(texts))).toEqual(plain(tokenizer.encodeBatch(texts)));
  });

  it("handles fewer texts than threads, and none", async () => {
    expect(plain(await pool.encodeBatch(["one"]))).toEqual(plain(tokenizer.encodeBatch(["one"])));
    expect(await pool.encodeBatch([])).toEqual([]);
  });

  it("serves overlapping requests", async () => {
    const [a, b] = await Promise.all([pool.encodeBatch(texts.slice(0, 50)), pool.encodeBatch(texts.slice(50, 120))]);
    expect(plain([...a, ...b])).toEqual(plain(tokenizer.encodeBatch(texts.slice(0, 120))));
  });

  it("passes on the tokenizer's errors", async () => {
    await expect(pool.encodeBatch(["fine", "bad \ud800"])).rejects.toThrow("got a lone surrogate U+D800 at index 4");
  });

  it("rejects a bad thread count", async () => {
    await expect(EncodePool.create(tokenizer, 0)).rejects.toThrow("Expected `threads` to be an integer >= 1, got `0`");
  });

  it("lets the process exit without being closed", async () => {
    const script = [
      'import { EncodePool } from "./src/data/encode-pool.ts";',
      'import { Tokenizer } from "./src/data/tokenizer.ts";',
      'const tokenizer = await Tokenizer.train(["abc abc abd"], 262);',
      'const pool = await EncodePool.create(tokenizer, 2);',
      'console.log((await pool.encodeBatch(["abc", "abd"])).map((ids) => ids.length).join(","));',
    ].join("\n");
    const { stdout } = await execa("npx", ["tsx", "--input-type=module", "-e", script]);
    expect(stdout).toBe("2,2");
  });

  it("shares one encoder per tokenizer between dataloaders", async () => {
    const first = sharedEncoder(tokenizer, 2);
    expect(sharedEncoder(tokenizer, 2)).toBe(first);
    const encoder = await first;
    expect(plain(await encoder.encodeBatch(texts.slice(0, 9), 1))).toEqual(plain(tokenizer.encodeBatch(texts.slice(0, 9), 1)));
    expect(await sharedEncoder(tokenizer, 1)).toBe(encoder);
  });
});
