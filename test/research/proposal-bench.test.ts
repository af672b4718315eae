/**
 * The proposal bench's replies (bench/proposals), run through the real agent, parser, applier,
 * guards and type-check against the current train.ts: every valid reply is accepted as it is,
 * every other one is refused with a message that names its line and says what to write
 * instead, and its repair is accepted.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CASES } from "../../bench/proposals/cases.ts";
import { runCase } from "../../bench/proposals/run-case.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const files = { "program.md": read("program.md"), "prepare.ts": read("prepare.ts"), "train.ts": read("train.ts") };

describe("proposal bench", () => {
  it("has 20+ replies", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const result = await runCase(c, files, root);
    if (c.valid) {
      expect(result.refusal).toBe("");
      expect(result.acceptedFirst).toBe(true);
    } else {
      expect(result.acceptedFirst).toBe(false);
      expect(result.acceptedAfterRepair, result.refusal).toBe(true);
      expect(result.namesLine, result.refusal).toBe(true);
      expect(result.saysInstead, result.refusal).toBe(true);
    }
  });
});
