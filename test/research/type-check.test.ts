import { describe, expect, it } from "vitest";
import { typeCheck } from "../../src/research/type-check.ts";
import { FIXTURE_ROOT, fixtureTrain } from "./fixtures.ts";

describe("typeCheck", () => {
  it("passes the fixture train.ts against its project", () => {
    expect(typeCheck(fixtureTrain, FIXTURE_ROOT)).toEqual([]);
  });

  it("reports errors in the candidate at their line and column, without touching the file on disk", () => {
    const broken = fixtureTrain.replace("const DEPTH = 8;", 'const DEPTH: number = "8";').replace("evaluateBpb(model)", "evaluateBpb(model, 2)");
    const lines = broken.split("\n");
    const depthLine = lines.findIndex((l) => l.startsWith("const DEPTH")) + 1;
    const evalLine = lines.findIndex((l) => l.includes("evaluateBpb(model, 2)")) + 1;
    const evalColumn = lines[evalLine - 1]!.indexOf("2)") + 1;
    expect(typeCheck(broken, FIXTURE_ROOT)).toEqual([
      `train.ts:${depthLine}:7 TS2322 Type 'string' is not assignable to type 'number'.`,
      `train.ts:${evalLine}:${evalColumn} TS2554 Expected 1 arguments, but got 2.`,
    ]);
    expect(typeCheck(fixtureTrain, FIXTURE_ROOT)).toEqual([]);
  });

  it("reports an import the project does not export, and syntax errors", () => {
    const errors = typeCheck(`import { Conv2d } from "./src/engine/index.ts";\nconst x = ;\nconsole.log(Conv2d, x);\n`, FIXTURE_ROOT);
    expect(errors).toEqual([
      "train.ts:2:11 TS1109 Expression expected.",
      `train.ts:1:10 TS2305 Module '"./src/engine/index.ts"' has no exported member 'Conv2d'.`,
    ]);
  });
});
