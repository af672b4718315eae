import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { isMainModule } from "../../src/data/is-main-module.ts";

describe("isMainModule", () => {
  it("is true only for the program node was started with", () => {
    expect(isMainModule(pathToFileURL(realpathSync(process.argv[1])).href)).toBe(true);
    expect(isMainModule(import.meta.url)).toBe(false);
  });
});
