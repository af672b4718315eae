import { describe, expect, it } from "vitest";
import { setTrainConsts, trainSourceForProfile, TrainSourceError } from "../../src/runner/train-profiles.ts";

const source = `import * as torch from "./src/engine/index.ts";\nconst DEPTH = 8; // layers\nconst TOTAL_BATCH_SIZE = 2 ** 19;\nconst WINDOW_PATTERN = "SSSL";\n`;

describe("train.ts const overrides", () => {
  it("rewrites only the initializers and names each change", () => {
    const { source: out, changes } = setTrainConsts(source, { DEPTH: "2", WINDOW_PATTERN: '"L"' });
    expect(out).toBe(source.replace("= 8;", "= 2;").replace('"SSSL"', '"L"'));
    expect(changes).toEqual(["DEPTH = 2 (was 8)", 'WINDOW_PATTERN = "L" (was "SSSL")']);
  });

  it("refuses a const train.ts does not declare, and an unknown profile", () => {
    expect(() => setTrainConsts(source, { HEAD_DIM: "16" })).toThrow(
      "Expected train.ts to declare the profile's consts as top-level `const NAME = literal;` lines, got `HEAD_DIM` (not declared at the top level)",
    );
    expect(() => trainSourceForProfile(source, "tpu")).toThrow("Expected the profile to be one of `default`, `cpu`, `test`, got `tpu`");
    expect(trainSourceForProfile(source, "default")).toEqual({ source, note: null });
  });

  it("names how a const it cannot set is declared, and throws a TrainSourceError", () => {
    const cases: [string, string][] = [
      ["let HEAD_DIM = 128;", "`HEAD_DIM` (declared with `let`)"],
      ["var HEAD_DIM = 128;", "`HEAD_DIM` (declared with `var`)"],
      ["const HEAD_DIM = DEPTH * 16;", "`HEAD_DIM` (declared as `HEAD_DIM = DEPTH * 16`, whose value is not a number, a power, an array of numbers or a string)"],
      ["const HEAD_DIM = 1, OTHER = 2;", "`HEAD_DIM` (declared in a statement with other consts)"],
      ["function f() { const HEAD_DIM = 1; }", "`HEAD_DIM` (not declared at the top level)"],
    ];
    for (const [line, why] of cases) {
      const run = () => setTrainConsts(`${source}${line}\n`, { HEAD_DIM: "16" });
      expect(run).toThrow(TrainSourceError);
      expect(run).toThrow(`got ${why}`);
    }
  });

  it("rewrites the const itself, not an earlier comment or string holding the same text", () => {
    const decoy = `// const DEPTH = 8; // layers\nconst NOTE = "const DEPTH = 8; // layers";\n${source}`;
    const { source: out } = setTrainConsts(decoy, { DEPTH: "2" });
    expect(out).toBe(decoy.replace("const DEPTH = 8; // layers\nconst TOTAL", "const DEPTH = 2; // layers\nconst TOTAL"));
  });
});
