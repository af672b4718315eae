/**
 * Model and batch hyperparameters for the small profiles. train.ts keeps the reference's H100
 * values as plain consts; a small profile runs a copy of it with these consts rewritten, and
 * every change is printed, so what runs is always a readable train.ts.
 */
import { describeDeclaration, readHyperparameters } from "./read-hyperparameters.ts";

type Literal = string; // TypeScript source text of the new initializer

export const TRAIN_PROFILE_OVERRIDES: Readonly<Record<string, Readonly<Record<string, Literal>>>> = {
  default: {},
  // ~1.5M parameters: d=128, 4 heads of 32, 4 layers; 8K tokens per step on a laptop CPU.
  cpu: { ASPECT_RATIO: "32", HEAD_DIM: "32", DEPTH: "4", TOTAL_BATCH_SIZE: "2 ** 13", DEVICE_BATCH_SIZE: "16" },
  // The smallest GPT that still has every feature: d=64, 4 heads of 16, 2 layers.
  test: { ASPECT_RATIO: "32", HEAD_DIM: "16", DEPTH: "2", TOTAL_BATCH_SIZE: "2 ** 10", DEVICE_BATCH_SIZE: "16" },
};

/** A train.ts whose consts a profile cannot set; the message names the const and why. */
export class TrainSourceError extends Error {}

/**
 * Rewrites top-level `const NAME = literal;` initializers, at their places in the syntax tree
 * (never a text search, which a comment holding the same line would fool).
 *
 * @throws TrainSourceError naming each const that is missing or not a plain literal const, and how it is declared.
 */
export function setTrainConsts(source: string, values: Readonly<Record<string, Literal>>): { source: string; changes: string[] } {
  const found = new Map(readHyperparameters(source).map((h) => [h.name, h]));
  const missing = Object.keys(values).filter((name) => !found.has(name));
  if (missing.length) {
    const why = missing.map((n) => `\`${n}\` (${describeDeclaration(source, n)})`).join(", ");
    throw new TrainSourceError(`Expected train.ts to declare the profile's consts as top-level \`const NAME = literal;\` lines, got ${why}`);
  }
  const edits = Object.entries(values).map(([name, text]) => {
    const { statement, initializer, start } = found.get(name)!;
    return { name, text, from: start + initializer.start, to: start + initializer.end, was: statement.slice(initializer.start, initializer.end) };
  });
  let out = source;
  for (const edit of [...edits].sort((a, b) => b.from - a.from)) out = out.slice(0, edit.from) + edit.text + out.slice(edit.to);
  return { source: out, changes: edits.map((e) => `${e.name} = ${e.text} (was ${e.was})`) };
}

/** train.ts as a profile runs it, plus one line naming every const the profile changed. */
export function trainSourceForProfile(source: string, profile: string): { source: string; note: string | null } {
  const overrides = TRAIN_PROFILE_OVERRIDES[profile];
  if (!overrides) {
    throw new Error(`Expected the profile to be one of ${Object.keys(TRAIN_PROFILE_OVERRIDES).map((n) => `\`${n}\``).join(", ")}, got \`${profile}\``);
  }
  const { source: out, changes } = setTrainConsts(source, overrides);
  return { source: out, note: changes.length ? `profile ${profile} sets in train.ts: ${changes.join(", ")}` : null };
}
