import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { replayChange } from "../../src/research/replay-change.ts";

const dir = mkdtempSync(path.join(tmpdir(), "replay-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** git merge-file's three-way merge of `changed` and `onto` from `base`, the reference; null on a conflict. */
function gitMerge(base: string, changed: string, onto: string): string | null {
  const files = { base, changed, onto };
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  try {
    return execFileSync("git", ["merge-file", "-p", "changed", "base", "onto"], { cwd: dir, encoding: "utf8" });
  } catch {
    return null;
  }
}

/** A small deterministic generator, so a failure reproduces. */
function random(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % n;
  };
}

/** Edits `lines`: replaces, inserts or deletes a few of them. */
function edit(lines: string[], next: (n: number) => number, tag: string): string[] {
  const out = [...lines];
  for (let k = 0, edits = 1 + next(3); k < edits; k++) {
    const at = next(out.length);
    const kind = next(4);
    if (kind === 0) out.splice(at, 0, `const ${tag}_${k} = ${next(100)};`);
    else if (kind === 1 && out.length > 5) out.splice(at, 1);
    else out[at] = `${out[at]} // ${tag}${k}`;
  }
  return out;
}

describe("replayChange", () => {
  const base = Array.from({ length: 40 }, (_, i) => `const C${i} = ${i};`);

  it("keeps what the new head changed and adds the change alone", () => {
    const changed = base.map((l) => l.replace("C3 = 3", "C3 = 30")).join("\n");
    const onto = base.filter((l) => !l.includes("C20 ")).map((l) => l.replace("C4 = 4", "C4 = 40")).join("\n");
    expect(replayChange(base.join("\n"), changed, onto)).toBe(onto.replace("C3 = 3;", "C3 = 30;"));
  });

  it("refuses a change to the lines the new head changed, and an insertion next to one", () => {
    const changed = base.map((l) => l.replace("C3 = 3", "C3 = 30")).join("\n");
    expect(replayChange(base.join("\n"), changed, base.map((l) => l.replace("C3 = 3", "C3 = 31")).join("\n"))).toBeNull();
    expect(replayChange(base.join("\n"), changed, [...base.slice(0, 3), "const X = 1;", ...base.slice(3)].join("\n"))).toBeNull();
  });

  it("takes an identical change made on both sides once", () => {
    const changed = base.map((l) => l.replace("C3 = 3", "C3 = 30")).join("\n");
    const onto = base.map((l) => l.replace("C3 = 3", "C3 = 30").replace("C9 = 9", "C9 = 90")).join("\n");
    expect(replayChange(base.join("\n"), changed, onto)).toBe(onto);
  });

  it("agrees with git merge-file wherever both merge cleanly", () => {
    const next = random(7);
    let compared = 0;
    for (let trial = 0; trial < 200; trial++) {
      const changed = edit(base, next, "ours").join("\n");
      const onto = edit(base, next, "theirs").join("\n");
      const ours = replayChange(base.join("\n"), changed, onto);
      const reference = gitMerge(base.join("\n") + "\n", changed + "\n", onto + "\n");
      if (ours === null || reference === null) continue;
      expect(ours + "\n", `trial ${trial}`).toBe(reference);
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
  });
});
