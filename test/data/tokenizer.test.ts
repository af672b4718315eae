import { Tiktoken } from "tiktoken";
import { afterAll, describe, expect, it } from "vitest";
import { SeededRandom } from "../../src/data/seeded-random.ts";
import { SPLIT_PATTERN } from "../../src/data/split-pattern.ts";
import { BOS_TOKEN, SPECIAL_TOKENS, Tokenizer } from "../../src/data/tokenizer.ts";

const random = new SeededRandom(2024);
const letters = "etaoinshrdlucmfwypvbgkjqxz";
const words = [
  ...Array.from({ length: 300 }, () => Array.from({ length: random.between(1, 9) }, () => random.pick([...letters])).join("")),
  ...["dog's", "42", "1999", "naïve", "café", "日本", "東京", "🙂", "—", "!"],
];
const corpus = Array.from({ length: 400 }, () =>
  Array.from({ length: random.between(5, 40) }, () => random.pick(words)).join(random.chance(0.1) ? "\n" : " "),
);
const tokenizer = await Tokenizer.train(corpus, 700);
// tiktoken (Rust, via WASM) with the same ranks is the independent reference.
const reference = new Tiktoken(tokenizer.toTiktoken(), { ...tokenizer.specialTokens }, SPLIT_PATTERN);
afterAll(() => reference.free());

/** Random text from code points all over Unicode (no surrogates), weighted towards the tricky ranges. */
function randomUnicode(random: SeededRandom, length: number): string {
  const ranges: Array<[number, number]> = [
    [0x00, 0x7f], [0x80, 0x7ff], [0x300, 0x36f], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0x2000, 0x206f],
    [0x1f300, 0x1faff], [0xe000, 0xf8ff], [0xfe00, 0xfe0f], [0xfff0, 0xffff], [0x10000, 0x10ffff],
  ];
  let text = "";
  for (let i = 0; i < length; i++) {
    const [low, high] = random.pick(ranges);
    text += String.fromCodePoint(random.between(low, high));
  }
  return text;
}

const adversarial = [
  "",
  "a",
  "plain ascii text, with punctuation!",
  "emoji: 👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 🇫🇷",
  "CJK: 中文字符和日本語のかな、한국어",
  "combining: e\u0301 a\u0308\u0323 Z\u0351\u0352\u0353 ﷽",
  "whitespace: \t\v\f\r\n\u0085\u00a0\u1680\u2000\u2028\u2029\u202f\u205f\u3000\ufeff end",
  "right-to-left: שלום عربي",
  "control: \u0000\u0001\u001f\u007f",
  "noncharacters: \ufffe\uffff\u{10ffff}",
  "x".repeat(5000),
  "ab".repeat(3000),
  " ".repeat(2000) + "z",
  "9".repeat(101),
  "<|reserved_0|> is text here",
];

describe("Tokenizer", () => {
  it("puts the 4 special tokens right after the mergeable ranks, BOS first", () => {
    expect(tokenizer.vocabSize).toBe(700);
    expect(tokenizer.mergeable).toHaveLength(696);
    expect(tokenizer.specialTokens).toEqual({
      "<|reserved_0|>": 696,
      "<|reserved_1|>": 697,
      "<|reserved_2|>": 698,
      "<|reserved_3|>": 699,
    });
    expect(BOS_TOKEN).toBe(SPECIAL_TOKENS[0]);
    expect(tokenizer.bosTokenId).toBe(696);
  });

  it.each(adversarial.map((text) => [text.slice(0, 40), text]))("round-trips and matches tiktoken: %j", (_label, text) => {
    const ids = tokenizer.encode(text);
    expect([...ids]).toEqual([...reference.encode_ordinary(text)]);
    expect(tokenizer.decode(ids)).toBe(text);
  });

  it("round-trips random Unicode and matches tiktoken", () => {
    const random = new SeededRandom(5);
    for (let trial = 0; trial < 300; trial++) {
      const text = randomUnicode(random, random.between(1, 80));
      const ids = tokenizer.encode(text);
      expect([...ids]).toEqual([...reference.encode_ordinary(text)]);
      expect(tokenizer.decode(ids)).toBe(text);
    }
  });

  it("matches tiktoken on text like its training data, where the merges apply", () => {
    for (const text of corpus.slice(0, 50)) expect([...tokenizer.encode(text)]).toEqual([...reference.encode_ordinary(text)]);
    expect(tokenizer.encode(corpus[0]).length).toBeLessThan(Buffer.byteLength(corpus[0]) / 2);
  });

  it("gives the same ids when the chunk cache is warm", () => {
    const fresh = Tokenizer.fromTiktoken(tokenizer.toTiktoken());
    const cold = corpus.map((text) => [...fresh.encode(text)]);
    expect(corpus.map((text) => [...fresh.encode(text)])).toEqual(cold);
  });

  it.each([
    ["\ud800", "U+D800 at index 0"],
    ["ok \udfff", "U+DFFF at index 3"],
    ["pair then lone 😀\udbff", "U+DBFF at index 17"],
    ["reversed \ude00\ud83d", "U+DE00 at index 9"],
  ])("rejects a lone surrogate in %j", (text, where) => {
    expect(() => tokenizer.encode(text)).toThrow(`Expected \`text\` to be well-formed Unicode, got a lone surrogate ${where}`);
  });

  it("rejects a non-string", () => {
    expect(() => tokenizer.encode(42 as unknown as string)).toThrow("Expected `text` to be a string, got `number`");
  });

  it("prepends BOS when asked, and treats special-token strings in text as plain text", () => {
    const ids = tokenizer.encode("<|reserved_0|>", tokenizer.bosTokenId);
    expect(ids[0]).toBe(tokenizer.bosTokenId);
    expect([...ids.subarray(1)]).not.toContain(tokenizer.bosTokenId);
    expect(tokenizer.decode(ids)).toBe("<|reserved_0|><|reserved_0|>");
    expect(tokenizer.encodeBatch(["a", "b"], 5).map((x) => [...x])).toEqual([[5, 97], [5, 98]]);
  });

  it("has token_bytes equal to each token's UTF-8 length and 0 for specials", () => {
    const expected = Array.from({ length: 700 }, (_, id) =>
      id >= 696 ? 0 : Buffer.from(reference.decode_single_token_bytes(id)).length,
    );
    expect([...tokenizer.tokenBytes]).toEqual(expected);
  });

  it("reads back its tiktoken file, which tiktoken also accepts", () => {
    const again = Tokenizer.fromTiktoken(tokenizer.toTiktoken());
    expect(again.mergeable).toEqual(tokenizer.mergeable);
    expect(tokenizer.toTiktoken().split("\n")[97]).toBe("YQ== 97");
  });

  it.each([
    ["YQ== 0\nYg== 0\n", "Expected line 2 to be `<base64> <unique rank below 2>`, got `Yg== 0`"],
    ["YQ== x\n", "Expected line 1 to be `<base64> <unique rank below 1>`, got `YQ== x`"],
    ["YQ== 0 1\n", "Expected line 1 to be `<base64> <unique rank below 1>`, got `YQ== 0 1`"],
    ["YQ== 0\n", "Expected mergeable tokens to include every single byte, got none for byte 0"],
  ])("rejects a bad tiktoken file %j", (text, message) => {
    expect(() => Tokenizer.fromTiktoken(text)).toThrow(message);
  });

  it("rejects ranks that miss a byte or repeat a token", () => {
    const bytes = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
    expect(() => new Tokenizer(bytes.slice(1))).toThrow("Expected mergeable tokens to include every single byte, got none for byte 0");
    expect(() => new Tokenizer([...bytes, Uint8Array.of(7)])).toThrow("Expected mergeable tokens to be unique");
  });

  it("rejects bad ids and vocab sizes", async () => {
    expect(() => tokenizer.decode([700])).toThrow("Expected a token id to be an integer in [0, 700), got `700`");
    expect(() => tokenizer.decode([1.5])).toThrow("got `1.5`");
    await expect(Tokenizer.train(["abc"], 259)).rejects.toThrow("Expected `vocabSize` to be an integer >= 260, got `259`");
  });

  it("replaces a cut multi-byte character when decoding, as tiktoken does", () => {
    const ids = tokenizer.encode("€");
    const firstByte = tokenizer.decodeBytes(ids).subarray(0, 1);
    expect(tokenizer.decode([firstByte[0]])).toBe("\ufffd");
  });
});
