import { describe, expect, it } from "vitest";
import { setTrainConsts, trainSourceForProfile } from "../../src/runner/train-profiles.ts";

const source = `import * as torch from "./src/engine/index.ts";\nconst DEPTH = 8; // layers\nconst TOTAL_BATCH_SIZE = 2 ** 19;\nconst WINDOW_PATTERN = "SSSL";\n`;

describe("train.ts const overrides", () => {
  it("rewrites only the initializers and names each change", () => {
    const { source: out, changes } = setTrainConsts(source, { DEPTH: "2", WINDOW_PATTERN: '"L"' });
    expect(out).toBe(source.replace("= 8;", "= 2;").replace('"SSSL"', '"L"'));
    expect(changes).toEqual(["DEPTH = 2 (was 8)", 'WINDOW_PATTERN = "L" (was "SSSL")']);
  });

  it("refuses a const train.ts does not declare, and an unknown profile", () => {
    expect(() => setTrainConsts(source, { HEAD_DIM: "16" })).toThrow("train.ts has no top-level const `HEAD_DIM` to set");
    expect(() => trainSourceForProfile(source, "tpu")).toThrow("Expected the profile to be one of `default`, `cpu`, `test`, got `tpu`");
    expect(trainSourceForProfile(source, "default")).toEqual({ source, note: null });
  });
});
