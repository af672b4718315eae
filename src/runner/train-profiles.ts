/**
 * Model and batch hyperparameters for the small profiles. train.ts keeps the reference's H100
 * values as plain consts; a small profile runs a copy of it with these consts rewritten, and
 * every change is printed, so what runs is always a readable train.ts.
 */
import ts from "typescript";

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
  const file = ts.createSourceFile("train.ts", source, ts.ScriptTarget.Latest, true);
  const edits: { start: number; end: number; text: string; name: string; old: string }[] = [];
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement) || !(statement.declarationList.flags & ts.NodeFlags.Const)) continue;
    for (const d of statement.declarationList.declarations) {
      if (!ts.isIdentifier(d.name) || !d.initializer || !Object.hasOwn(values, d.name.text)) continue;
      edits.push({ start: d.initializer.getStart(file), end: d.initializer.getEnd(), text: values[d.name.text], name: d.name.text, old: d.initializer.getText(file) });
    }
  }
  const missing = Object.keys(values).filter((name) => !edits.some((e) => e.name === name));
  if (missing.length) throw new Error(`train.ts has no top-level const ${missing.map((n) => `\`${n}\``).join(", ")} to set`);
  let out = source;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { source: out, changes: edits.map((e) => `${e.name} = ${e.text} (was ${e.old})`) };
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
