import { describe, expect, it } from "vitest";
import { SPLIT_PATTERN, SPLIT_SOURCE, splitText } from "../../src/data/split-pattern.ts";

describe("SPLIT_PATTERN", () => {
  it("is the reference pattern, digits in groups of 1-2", () => {
    expect(SPLIT_PATTERN).toBe(
      String.raw`'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,2}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`,
    );
  });
});

describe("splitText", () => {
  // Each expectation was worked out by hand from the reference pattern's alternatives, in order.
  it.each([
    ["Hello world", ["Hello", " world"]],
    ["I'm you'll they've we're he'd IT'S", ["I", "'m", " you", "'ll", " they", "'ve", " we", "'re", " he", "'d", " IT", "'S"]],
    ["We'LL VE'Re", ["We", "'LL", " VE", "'Re"]],
    ["it'ſ", ["it", "'ſ"]],
    ["'x", ["'x"]],
    ["12345", ["12", "34", "5"]],
    ["abc123def", ["abc", "12", "3", "def"]],
    ["٣٤٥ and ⅫⅣⅠ", ["٣٤", "٥", " and", " ", "ⅫⅣ", "Ⅰ"]],
    ["  hello", [" ", " hello"]],
    ["hello  ", ["hello", "  "]],
    ["hello\n\nworld", ["hello", "\n\n", "world"]],
    ["a \n b", ["a", " \n", " b"]],
    ["foo!!! bar", ["foo", "!!!", " bar"]],
    ["x = 1;\n", ["x", " =", " ", "1", ";\n"]],
    ["end.\r\n\r\nNext", ["end", ".\r\n\r\n", "Next"]],
    ["¿Qué?", ["¿Qué", "?"]],
    ["\tTab", ["\tTab"]],
    ["a\u0085b", ["a", "\u0085b"]],
    ["a\u00a0\u00a0b", ["a", "\u00a0", "\u00a0b"]],
    ["a\ufeff b", ["a", "\ufeff", " b"]],
    ["日本語のテキスト", ["日本語のテキスト"]],
    ["e\u0301t\u00e9", ["e", "\u0301t\u00e9"]],
    ["👍🏽👍", ["👍🏽👍"]],
    ["", []],
  ])("splits %j", (text, chunks) => {
    expect(splitText(text)).toEqual(chunks);
  });

  it("never drops a character: the chunks concatenate back to the text", () => {
    const text = "Mixed: 'tis 3.14159 — «quoted» 👨‍👩‍👧 \u3000 text\r\n\t\v\f end ";
    expect(splitText(text).join("")).toBe(text);
  });

  it("has no possessive quantifiers or inline flags, which JavaScript lacks", () => {
    expect(SPLIT_SOURCE).not.toMatch(/\?\+|\+\+|\(\?i/);
  });
});
