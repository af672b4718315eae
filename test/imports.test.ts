// Every module under src/ loads on its own: no import order is load-bearing (an op registered
// before the registry exists, a cycle that reads a binding too early), and importing a file runs
// no command line.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");

/** Scripts whose top level is their main by design, each with why. */
const ENTRY_SCRIPTS: Record<string, string> = {
  "src/data/encode-worker.ts": "EncodePool's worker thread: it serves its parent port from the top level",
};

function sourceFiles(): string[] {
  return readdirSync(path.join(root, "src"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => path.posix.join("src", f.split(path.sep).join("/")))
    .sort();
}

describe("importing one module at a time", () => {
  it("loads every file under src/ in a fresh module graph, silently", () => {
    const files = sourceFiles().filter((f) => !(f in ENTRY_SCRIPTS));
    expect(files.length).toBeGreaterThan(50);
    const stdout = execFileSync(process.execPath, ["--import", "tsx", "test/helpers/import-each-alone.ts", ...files], {
      cwd: root,
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    const results: { file: string; error: string | null; output: string }[] = JSON.parse(stdout.trimEnd().split("\n").at(-1)!);
    expect(results.map((r) => r.file)).toEqual(files);
    const broken = results.filter((r) => r.error !== null || r.output !== "");
    expect(broken.map((r) => `${r.file}: ${r.error?.split("\n").slice(0, 3).join(" | ") ?? `printed ${JSON.stringify(r.output)}`}`)).toEqual([]);
  });

  it("lists only entry scripts that exist", () => {
    expect(Object.keys(ENTRY_SCRIPTS).filter((f) => !sourceFiles().includes(f))).toEqual([]);
  });
});
