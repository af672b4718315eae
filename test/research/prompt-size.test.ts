import { readFileSync } from "node:fs";
import { Tiktoken } from "tiktoken";
import cl100k from "tiktoken/encoders/cl100k_base.json" with { type: "json" };
import { afterAll, describe, expect, it } from "vitest";
import { SPLIT_PATTERN } from "../../src/data/split-pattern.ts";
import { buildPrompt } from "../../src/research/build-prompt.ts";
import { formatPromptSize, measurePrompt } from "../../src/research/prompt-size.ts";
import { researchFiles } from "./fixtures.ts";

// tiktoken itself (Rust, via WASM) is the independent reference: with cl100k's ranks and the
// project's split pattern it must count exactly what measurePrompt counts; with cl100k's own
// pattern (digits by three) nearly so.
const samePattern = new Tiktoken(cl100k.bpe_ranks, cl100k.special_tokens, SPLIT_PATTERN);
const cl100kItself = new Tiktoken(cl100k.bpe_ranks, cl100k.special_tokens, cl100k.pat_str);
afterAll(() => {
  samePattern.free();
  cl100kItself.free();
});

const texts = {
  "program.md": readFileSync(new URL("../../program.md", import.meta.url), "utf8"),
  "docs/engine-api.md": readFileSync(new URL("../../docs/engine-api.md", import.meta.url), "utf8"),
  "train.ts": readFileSync(new URL("../../train.ts", import.meta.url), "utf8"),
  unicode: "naïve café 日本 東京 🙂 — x², 1234567 tokens\r\n\n\tend",
};

describe("measurePrompt", () => {
  it.each(Object.entries(texts))("counts %s as tiktoken does with cl100k's ranks", (name, text) => {
    const { tokens, chars } = measurePrompt([{ role: "user", content: text }]);
    expect(chars).toBe(text.length);
    expect(tokens).toBe(samePattern.encode_ordinary(text).length);
    // Prose and code rarely hold numbers of three digits or more: there the two patterns agree to 2%.
    if (name !== "unicode") expect(Math.abs(tokens! / cl100kItself.encode_ordinary(text).length - 1)).toBeLessThan(0.02);
  });

  it("sums the messages of a whole prompt and formats the size for the log", () => {
    const messages = buildPrompt({ files: researchFiles(), ledger: [] });
    const size = measurePrompt(messages);
    expect(size.tokens).toBe(messages.reduce((n, m) => n + samePattern.encode_ordinary(m.content).length, 0));
    expect(formatPromptSize({ chars: 61234, tokens: 15321 })).toBe("61,234 chars, 15,321 tokens");
    expect(formatPromptSize({ chars: 61234, tokens: null })).toBe("61,234 chars");
  });
});
