/**
 * Keeps docs/engine-api.md (the agent's engine reference) in sync with the engine: every
 * export, functional and nn name, Tensor member and registered op is documented, the reference
 * names nothing that does not exist, and its TypeScript examples compile against the engine.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { opNames } from "../../src/engine/index.ts";
import { engineReference, PYTORCH_NAMES_HEADING, pytorchNames } from "../../src/research/engine-reference.ts";
import { typeCheck } from "../../src/research/type-check.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const reference = engineReference();

/** The engine's public names by the prefix the reference writes them with, read from the types. */
function engineSurface(): Record<"torch" | "F" | "nn" | "x" | "Tensor", Set<string>> {
  const index = path.join(ROOT, "src/engine/index.ts");
  const program = ts.createProgram([index], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, allowImportingTsExtensions: true, noEmit: true, strict: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const resolve = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(index)!)!);
  const member = (name: string) => resolve(exports.find((s) => s.name === name)!);
  const names = (symbols: readonly ts.Symbol[]) => new Set(symbols.map((s) => s.name).filter((n) => n !== "prototype"));
  const tensor = member("Tensor");
  return {
    torch: names(exports),
    F: names(checker.getExportsOfModule(member("F"))),
    nn: names(checker.getExportsOfModule(member("nn"))),
    x: names(checker.getDeclaredTypeOfSymbol(tensor).getProperties()),
    Tensor: names(checker.getTypeOfSymbol(tensor).getProperties()),
  };
}

/** Table rows without the cells of their "PyTorch" column, which name PyTorch's API, not this one's. */
function withoutPyTorchColumns(markdown: string): string {
  let dropped = -1;
  return markdown.split("\n").map((line) => {
    if (!line.startsWith("|")) {
      dropped = -1;
      return line;
    }
    const cells = line.split(/(?<!\\)\|/);
    if (dropped < 0) dropped = cells.findIndex((c) => c.trim() === "PyTorch");
    return dropped < 0 ? line : cells.filter((_, i) => i !== dropped).join("|");
  }).join("\n");
}

/** The reference up to the table of PyTorch names (which names what the engine lacks), without fenced code or PyTorch columns. */
const prose = withoutPyTorchColumns(reference.slice(0, reference.indexOf(PYTORCH_NAMES_HEADING)).replace(/```[\s\S]*?```/g, ""));

/** Every `prefix.name` that starts an inline code span of the prose. */
function documentedNames(): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  for (const [, span] of prose.matchAll(/`([^`\n]+)`/g)) {
    const match = /^(torch|F|nn|x|Tensor)\.([A-Za-z_$][\w$]*)/.exec(span!);
    if (match) found.push([match[1]!, match[2]!]);
  }
  return found;
}

describe("docs/engine-api.md", () => {
  const surface = engineSurface();
  const documented = documentedNames();

  it("documents every export of the engine, of F and nn, and every Tensor member", () => {
    const missing = Object.entries(surface).flatMap(([prefix, names]) =>
      [...names].filter((name) => !documented.some(([p, n]) => p === prefix && n === name)).map((name) => `${prefix}.${name}`),
    );
    expect(missing).toEqual([]);
  });

  it("names nothing the engine does not have", () => {
    const unknown = documented.filter(([prefix, name]) => !surface[prefix as keyof typeof surface].has(name)).map(([p, n]) => `${p}.${n}`);
    expect(unknown).toEqual([]);
  });

  it("lists exactly the registered ops", () => {
    const section = prose.slice(prose.indexOf("## Registered ops"));
    const body = section.slice(section.indexOf("\n\n", section.indexOf("\n") + 1));
    const listed = [...body.slice(0, body.indexOf("\n## ")).matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort();
    expect(listed).toEqual(opNames());
  });

  it("has TypeScript examples that compile against the engine", () => {
    const examples = [...reference.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).slice(1);
    expect(examples.length).toBeGreaterThanOrEqual(4);
    const imports = 'import * as torch from "./src/engine/index.ts";\nimport { F, nn, Tensor } from "./src/engine/index.ts";\n';
    examples.forEach((example, i) => {
      expect(typeCheck(`${imports}${example}\nexport {};\n`, ROOT, `engine-api-example-${i + 1}.ts`), example).toEqual([]);
    });
  });

  it("maps PyTorch names that the engine lacks to what to write instead", () => {
    const names = pytorchNames(reference);
    expect(names.get("F.gelu")).toMatch(/tanh/);
    expect(names.get("F.scaled_dot_product_attention")).toContain("F.attention");
    expect(names.get("torch.optim.AdamW")).toContain("torch.AdamW");
    expect(names.get("x.float")).toContain('x.to("f32")');
    for (const name of names.keys()) {
      const [prefix, member] = name.split(".");
      // x.numel is a property here and a method in PyTorch: a row may name a member the engine spells another way.
      if (prefix === "F" || prefix === "nn" || prefix === "x") expect(surface[prefix].has(member!) && !names.get(name)!.includes(name), name).toBe(false);
    }
  });
});
