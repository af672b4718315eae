import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { pytorchNames } from "../../src/research/engine-reference.ts";
import { typeCheck } from "../../src/research/type-check.ts";
import { FIXTURE_ROOT, fixtureTrain } from "./fixtures.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

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
    const quote = (line: number) => `\n${String(line).padStart(5)} | ${lines[line - 1]}`;
    expect(typeCheck(broken, FIXTURE_ROOT)).toEqual([
      `train.ts:${depthLine}:7 TS2322 Type 'string' is not assignable to type 'number'.${quote(depthLine)}`,
      `train.ts:${evalLine}:${evalColumn} TS2554 Expected 1 arguments, but got 2.${quote(evalLine)}`,
    ]);
    expect(typeCheck(fixtureTrain, FIXTURE_ROOT)).toEqual([]);
  });

  it("reports an import the project does not export, and syntax errors", () => {
    const errors = typeCheck(`import { Conv2d } from "./src/engine/index.ts";\nconst x = ;\nconsole.log(Conv2d, x);\n`, FIXTURE_ROOT);
    expect(errors).toEqual([
      "train.ts:2:11 TS1109 Expression expected.\n    2 | const x = ;",
      `train.ts:1:10 TS2305 Module '"./src/engine/index.ts"' has no exported member 'Conv2d'.\n    1 | import { Conv2d } from "./src/engine/index.ts";`,
    ]);
  });

  it("says what the engine reference has in place of a PyTorch name, against the real engine", () => {
    const train = readFileSync(new URL("../../train.ts", import.meta.url), "utf8");
    const line = (text: string) => text.split("\n").findIndex((l) => l.includes("F.reluSquare(")) + 1;
    const names = pytorchNames();
    for (const [written, key] of [["F.gelu(", "F.gelu"], ["torch.nn.functional.gelu(", "F.gelu"], ["F.silu(", "F.silu"]]) {
      const candidate = train.replace("F.reluSquare(", written!);
      const [error, ...rest] = typeCheck(candidate, ROOT);
      expect(rest).toEqual([]);
      expect(error).toMatch(new RegExp(`^train\\.ts:${line(train)}:\\d+ TS2339 `));
      expect(error).toContain(`\`${key}\` is PyTorch's spelling, not this engine's. Write instead: ${names.get(key!)!.replace(/`/g, "")}`);
      expect(error).toContain(`${String(line(train)).padStart(5)} | ${candidate.split("\n")[line(train) - 1]}`);
    }
    const float = typeCheck(train.replace("F.reluSquare(this.c_fc.forward(x))", "F.reluSquare(this.c_fc.forward(x).float())"), ROOT);
    expect(float).toEqual([expect.stringContaining("`x.float` is PyTorch's spelling, not this engine's. Write instead: x.to(\"f32\")")]);
  });
});
