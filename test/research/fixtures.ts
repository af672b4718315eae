import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ResearchFiles } from "../../src/research/agent.ts";

/** A tiny project (stub engine, stub prepare.ts, a train.ts with the reference's const block) to type-check against. */
export const FIXTURE_ROOT = fileURLToPath(new URL("./fixtures/project/", import.meta.url));

/** The fixture train.ts. */
export const fixtureTrain = readFileSync(new URL("./fixtures/project/train.ts", import.meta.url), "utf8");

/** The repository's own program.md. */
export const programMd = readFileSync(new URL("../../program.md", import.meta.url), "utf8");

/** The files an agent reads, with the real program.md and the fixture sources. */
export function researchFiles(overrides: Partial<ResearchFiles> = {}): ResearchFiles {
  return {
    "program.md": programMd,
    "prepare.ts": readFileSync(new URL("./fixtures/project/prepare.ts", import.meta.url), "utf8"),
    "train.ts": fixtureTrain,
    ...overrides,
  };
}
