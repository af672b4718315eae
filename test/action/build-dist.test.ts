import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { bundleAction, DIST_FILE } from "../../action/src/build-dist.ts";
import { PROJECT } from "../runner/experiment-repo.ts";

describe("action/dist", () => {
  it("is what `npx tsx action/src/build-dist.ts` builds from the current sources", async () => {
    const built = await bundleAction();
    // Compared by equality, not printed: the bundle is a megabyte.
    const same = built === readFileSync(join(PROJECT, DIST_FILE), "utf8");
    expect(same, "action/dist/index.js is out of date: run `npx tsx action/src/build-dist.ts` and commit it").toBe(true);
  });

  it("is what action.yml runs, and it loads and runs on this Node (20)", async () => {
    const actionYml = readFileSync(join(PROJECT, "action/action.yml"), "utf8");
    expect(actionYml).toMatch(/^ {2}using: node24\n {2}main: dist\/index\.js$/m);
    const run = await execa(process.execPath, [join(PROJECT, DIST_FILE)], { env: { PATH: process.env.PATH! }, extendEnv: false, reject: false });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("::error::The runner failed: Input required and not supplied: base-sha");
  });
});
