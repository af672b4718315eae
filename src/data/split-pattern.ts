/**
 * The pre-tokenizer split pattern: GPT-4 style, with digits in groups of 1-2.
 * This is the reference string, as handed to tiktoken; it uses possessive quantifiers
 * and an inline case-insensitive group, which JavaScript does not have.
 */
export const SPLIT_PATTERN =
  "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,2}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";

/**
 * The JavaScript equivalent of {@link SPLIT_PATTERN}.
 *
 * - `(?i:...)` becomes explicit case classes; `ſ` (U+017F) is there because Unicode case
 *   folding maps it to `s`, so the reference matches it too.
 * - `?+` and `++` become `?` and `+`: each is followed by something the quantified class can
 *   never match (`\p{L}` after a class without letters, `[\r\n]*` after a class without
 *   whitespace), so backtracking into them can never change what matches.
 * - `\s` becomes `\p{White_Space}`: JavaScript's `\s` adds U+FEFF and drops U+0085, while the
 *   reference (Rust and Python `regex`) uses the Unicode White_Space property.
 */
export const SPLIT_SOURCE =
  "'(?:[sdmtSDMT\\u017F]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,2}| ?[^\\p{White_Space}\\p{L}\\p{N}]+[\\r\\n]*|\\p{White_Space}*[\\r\\n]|\\p{White_Space}+(?!\\P{White_Space})|\\p{White_Space}+";

/** A fresh global regular expression for {@link SPLIT_SOURCE} (each has its own `lastIndex`). */
export function splitRegExp(): RegExp {
  return new RegExp(SPLIT_SOURCE, "gu");
}

/** Split `text` into pre-tokenizer chunks; their concatenation is always `text`. */
export function splitText(text: string): string[] {
  return text.match(splitRegExp()) ?? [];
}
