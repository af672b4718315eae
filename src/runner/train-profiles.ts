/**
 * Model and batch hyperparameters for the small profiles. train.ts keeps the reference's H100
 * values as plain consts; a small profile runs a copy of it with these consts rewritten, and
 * every change is printed, so what runs is always a readable train.ts.
 */
import { readHyperparameters } from "./read-hyperparameters.ts";

type Literal = string; // TypeScript source text of the new initializer

export const TRAIN_PROFILE_OVERRIDES: Readonly<Record<string, Readonly<Record<string, Literal>>>> = {
  default: {},
  // ~1.5M parameters: d=128, 4 heads of 32, 4 layers; 8K tokens per step on a laptop CPU.
  cpu: { ASPECT_RATIO: "32", HEAD_DIM: "32", DEPTH: "4", TOTAL_BATCH_SIZE: "2 ** 13", DEVICE_BATCH_SIZE: "16" },
  // The smallest GPT that still has every feature: d=64, 4 heads of 16, 2 layers.
  test: { ASPECT_RATIO: "32", HEAD_DIM: "16", DEPTH: "2", TOTAL_BATCH_SIZE: "2 ** 10", DEVICE_BATCH_SIZE: "16" },
};

/** Rewrites top-level `const NAME = ...;` initializers. Throws naming a const that is missing. */
export function setTrainConsts(source: string, values: Readonly<Record<string, Literal>>): { source: string; changes: string[] } {
  const found = new Map(readHyperparameters(source).map((h) => [h.name, h]));
  const missing = Object.keys(values).filter((name) => !found.has(name));
  if (missing.length) throw new Error(`train.ts has no top-level const ${missing.map((n) => `\`${n}\``).join(", ")} to set`);
  let out = source;
  const changes: string[] = [];
  for (const [name, text] of Object.entries(values)) {
    const { statement, initializer } = found.get(name)!;
    out = out.replace(statement, statement.slice(0, initializer.start) + text + statement.slice(initializer.end));
    changes.push(`${name} = ${text} (was ${statement.slice(initializer.start, initializer.end)})`);
  }
  return { source: out, changes };
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
