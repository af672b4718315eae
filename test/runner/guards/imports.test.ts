import { describe, expect, it } from "vitest";
import { checkImports, formatImportViolations } from "../../../src/runner/guards/imports.ts";

const allowed = `import { nn, F, Tensor } from "./src/engine/index.ts";
import * as engine from "./src/engine";
import { MAX_SEQ_LEN, evaluateBpb } from "./prepare.ts";
import type { Loader } from "./prepare.js";
export { MAX_SEQ_LEN } from "./prepare";

const DEPTH = 8;
class GPT extends nn.Module {
  constructor(readonly depth: number) {
    super();
  }
  process(x: Tensor): Tensor { return x; }
}
const config = { eval: false, fetch: 1 };
const model = new GPT(DEPTH);
model.process(engine.zeros([1]));
console.log(config.eval, MAX_SEQ_LEN, evaluateBpb);
`;

/** Where `needle` starts in `source`, as 1-based line and column. */
function positionOf(source: string, needle: string) {
  const before = source.slice(0, source.indexOf(needle)).split("\n");
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

describe("checkImports", () => {
  it("allows the engine, prepare.ts, classes and property names that shadow globals", () => {
    expect(checkImports(allowed)).toEqual([]);
  });

  it.each([
    ['import fs from "node:fs";', 'node:fs'],
    ['import { readFileSync } from "fs";', "fs"],
    ['import * as net from "net";', "net"],
    ['import "http";', "http"],
    ['import { spawn } from "child_process";', "child_process"],
    ['import { Worker } from "worker_threads";', "worker_threads"],
    ['import vm from "vm";', "vm"],
    ['export * from "./src/engine/cuda.ts";', "./src/engine/cuda.ts"],
    ['import { x } from "../prepare.ts";', "../prepare.ts"],
    ['import type { T } from "openai";', "openai"],
  ])("refuses %s at the specifier's position", (line, specifier) => {
    const source = `const A = 1;\n  ${line}\n`;
    const [violation, ...rest] = checkImports(source);
    expect(rest).toEqual([]);
    expect(violation).toEqual({
      ...positionOf(source, `"${specifier}"`),
      message: `Expected an import of \`./prepare.ts\` and \`./src/engine/index.ts\`, got \`${specifier}\``,
    });
  });

  it.each([
    ["const fs = require('fs');", "require"],
    ["const key = process.env.OPENAI_API_KEY;", "process"],
    ["process.exit(0);", "process"],
    ["const g = globalThis;", "globalThis"],
    ["global.x = 1;", "global"],
    ["eval('1 + 1');", "eval"],
    ["const f = new Function('return 1');", "Function"],
    ["fetch('https://example.com');", "fetch"],
    ["const o = { process };", "process"],
  ])("refuses %s", (code, name) => {
    const source = `const DEPTH = 8;\n${code}\n`;
    const violations = checkImports(source);
    expect(violations.map((v) => [v.line, v.column])).toEqual([[2, positionOf(source, name).column]]);
    expect(violations[0]!.message).toMatch(new RegExp(`^Expected no use of \`${name}\``));
  });

  it("refuses dynamic import, import.meta, import = require and the Function constructor by property", () => {
    const source = [
      'const m = await import("./prepare.ts");',
      "const url = import.meta.url;",
      'import cp = require("child_process");',
      "const F = (() => 0).constructor;",
      'const G = (() => 0)["constructor"];',
      "const p = ({}).__proto__;",
    ].join("\n");
    expect(checkImports(source).map((v) => `${v.line}:${v.column} ${v.message.split(",")[0]}`)).toEqual([
      "1:17 Expected static imports only",
      "2:13 Expected no `import.meta`",
      "3:1 Expected an ES import of `./prepare.ts` and `./src/engine/index.ts`",
      "4:21 Expected no access to `constructor`",
      "5:21 Expected no access to `constructor`",
      "6:16 Expected no access to `__proto__`",
    ]);
  });

  it("formats violations like a compiler", () => {
    const violations = checkImports('import fs from "fs";\nprocess.exit(1);\n');
    expect(formatImportViolations(violations)).toBe(
      "train.ts:1:16 Expected an import of `./prepare.ts` and `./src/engine/index.ts`, got `fs`\n" +
        "train.ts:2:1 Expected no use of `process`, it reaches the environment and the process",
    );
  });
});
