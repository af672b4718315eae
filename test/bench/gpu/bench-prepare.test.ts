/**
 * bench/gpu/bench-prepare.ts stands in for prepare.ts when the GPU benchmark bundles train.ts
 * (bundle.ts), so it must export every name train.ts imports from prepare.ts: a name train.ts
 * starts using would otherwise fail only on the GPU host, at bundle or run time.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../../..");
const source = (file: string) => ts.createSourceFile(file, readFileSync(path.join(root, file), "utf8"), ts.ScriptTarget.Latest);

/** Names `file` imports from a module whose specifier ends with `from`. */
function importedNames(file: string, from: string): string[] {
  return source(file).statements.flatMap((s) =>
    ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier) && s.moduleSpecifier.text.endsWith(from) &&
    s.importClause?.namedBindings && ts.isNamedImports(s.importClause.namedBindings)
      ? s.importClause.namedBindings.elements.map((e) => (e.propertyName ?? e.name).text)
      : []);
}

/** Names `file` exports at top level (declarations and export lists). */
function exportedNames(file: string): string[] {
  const sf = source(file);
  return sf.statements.flatMap((s) => {
    if (ts.isExportDeclaration(s) && s.exportClause && ts.isNamedExports(s.exportClause)) return s.exportClause.elements.map((e) => e.name.text);
    const exported = ts.canHaveModifiers(s) && ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) return [];
    if (ts.isVariableStatement(s)) return s.declarationList.declarations.map((d) => d.name.getText(sf));
    const name = (s as ts.DeclarationStatement).name;
    return name && ts.isIdentifier(name) ? [name.text] : [];
  });
}

describe("bench/gpu/bench-prepare.ts", () => {
  it("exports every name train.ts imports from prepare.ts", () => {
    const wanted = importedNames("train.ts", "prepare.ts");
    expect(wanted.length).toBeGreaterThan(5);
    const have = new Set(exportedNames("bench/gpu/bench-prepare.ts"));
    expect(wanted.filter((n) => !have.has(n))).toEqual([]);
  });
});
