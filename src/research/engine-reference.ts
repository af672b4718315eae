import { readFileSync } from "node:fs";

/** Where the engine reference lives in this package; the agent reads it in place of the README. */
export const ENGINE_REFERENCE_PATH = "docs/engine-api.md";

const url = new URL(`../../${ENGINE_REFERENCE_PATH}`, import.meta.url);
let text: string | null = null;

/** The engine reference (docs/engine-api.md of this package): what train.ts can call. */
export function engineReference(): string {
  text ??= readFileSync(url, "utf8");
  return text;
}

/** The heading of the reference's table of PyTorch names and what to write instead. */
export const PYTORCH_NAMES_HEADING = "## Names PyTorch has and this engine lacks";

/** A qualified name at the start of a code span: `F.gelu(x)` gives `F.gelu`. */
const leadingName = (span: string) => /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*/.exec(span)?.[0] ?? null;

/**
 * The reference's table of PyTorch names the engine lacks, by name (`F.gelu`, `x.float`,
 * `torch.optim.AdamW`) to what to write instead. The type-check's refusals quote it, so the
 * agent is told the same thing in the error as in the reference.
 */
export function pytorchNames(reference = engineReference()): Map<string, string> {
  const start = reference.indexOf(PYTORCH_NAMES_HEADING);
  if (start < 0) throw new Error(`Expected the engine reference to have a section "${PYTORCH_NAMES_HEADING}", got none`);
  const names = new Map<string, string>();
  for (const line of reference.slice(start).split("\n").slice(1)) {
    if (line.startsWith("## ")) break;
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.length < 4 || cells[1] === "PyTorch" || /^-+$/.test(cells[1]!)) continue;
    const instead = cells[2]!.replace(/\\\|/g, "|");
    for (const [, span] of cells[1]!.matchAll(/`([^`]+)`/g)) {
      const name = leadingName(span!);
      if (name) names.set(name, instead);
    }
  }
  return names;
}
