import { describe, expect, it } from "vitest";
import { checkDiff } from "../../../src/runner/guards/diff.ts";

describe("checkDiff", () => {
  it("allows a change to train.ts only, and no change at all", () => {
    expect(checkDiff(["train.ts"])).toEqual([]);
    expect(checkDiff(["./train.ts"])).toEqual([]);
    expect(checkDiff([])).toEqual([]);
  });

  it("names every other path", () => {
    expect(checkDiff(["train.ts", "prepare.ts", "src/engine/index.ts", "sub/train.ts"])).toEqual([
      "Expected only `train.ts` to change, got a change to `prepare.ts`",
      "Expected only `train.ts` to change, got a change to `src/engine/index.ts`",
      "Expected only `train.ts` to change, got a change to `sub/train.ts`",
    ]);
  });
});
