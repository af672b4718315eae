import { describe, expect, it } from "vitest";
import { buildPrompt, renderLedger } from "../../src/research/build-prompt.ts";
import { engineReference } from "../../src/research/engine-reference.ts";
import type { LedgerEntry } from "../../src/research/ledger.ts";
import { programMd, researchFiles } from "./fixtures.ts";

const entry = (n: number, extra: Partial<LedgerEntry> = {}): LedgerEntry => ({
  n, title: `Idea ${n}`, hypothesis: `Because ${n}`, fingerprint: null, valBpb: 0.99, delta: -0.001, outcome: "improved", crash: null, ...extra,
});

describe("buildPrompt", () => {
  it("carries program.md verbatim, then the engine reference (not the README), prepare.ts, train.ts and the ledger", () => {
    const files = researchFiles();
    const [system, user, ...rest] = buildPrompt({ files, ledger: [entry(1)] });
    expect(rest).toEqual([]);
    expect(system).toEqual({ role: "system", content: programMd });
    expect(user!.content).not.toContain("README");
    const order = [engineReference(), files["prepare.ts"], files["train.ts"], "| 1 | Idea 1 | Because 1 | 0.990000 | -0.001000 | improved |  |"];
    const positions = order.map((part) => user!.content.indexOf(part));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it("asks the agent to leave alone the consts a small profile sets", () => {
    const user = buildPrompt({ files: researchFiles(), ledger: [] }, ["DEPTH", "HEAD_DIM"])[1]!.content;
    expect(user).toContain("a small profile that sets `DEPTH`, `HEAD_DIM` in train.ts itself: a change to them measures nothing");
    expect(buildPrompt({ files: researchFiles(), ledger: [] })[1]!.content).not.toContain("small profile");
  });

  it("uses whatever program.md says, so a merged edit reaches the next prompt", () => {
    const edited = `${programMd}\n## New rule\n\nTry only optimizer changes tonight.\n`;
    expect(buildPrompt({ files: researchFiles({ "program.md": edited }), ledger: [] })[0]!.content).toBe(edited);
  });
});

describe("renderLedger", () => {
  it("is a table with deltas, outcomes and crash excerpts, escaping pipes and keeping the last 200 rows", () => {
    const rows = renderLedger([
      entry(1, { title: "a | b", delta: 0.0025, outcome: "regressed" }),
      entry(2, { valBpb: null, delta: null, outcome: "crashed", crash: "crash: CUDA out of memory\n  at step 3" }),
    ]).split("\n");
    expect(rows).toEqual([
      "| n | title | hypothesis | val_bpb | delta | outcome | crash |",
      "|---|---|---|---|---|---|---|",
      "| 1 | a \\| b | Because 1 | 0.990000 | +0.002500 | regressed |  |",
      "| 2 | Idea 2 | Because 2 |  |  | crashed | crash: CUDA out of memory at step 3 |",
    ]);
    const many = renderLedger(Array.from({ length: 205 }, (_, i) => entry(i + 1))).split("\n");
    expect(many[0]).toBe("(5 older experiments not shown.)");
    expect(many.at(-1)).toMatch(/^\| 205 \|/);
    expect(renderLedger([])).toBe("No experiments yet: the first proposals run against the baseline.");
  });
});
