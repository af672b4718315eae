import ts from "typescript";

/** One reason why a `train.ts` source may not run on the GPU runner. */
export interface ImportViolation {
  /** 1-based line of the offending code. */
  line: number;
  /** 1-based column of the offending code. */
  column: number;
  message: string;
}

/** The only module specifiers `train.ts` may import. */
export const ALLOWED_IMPORTS: ReadonlySet<string> = new Set([
  "./prepare.ts",
  "./prepare.js",
  "./prepare",
  "./src/engine/index.ts",
  "./src/engine/index.js",
  "./src/engine",
]);

// Globals that reach the file system, the network, the process or code generation.
const FORBIDDEN_GLOBALS: ReadonlyMap<string, string> = new Map([
  ["require", "loads arbitrary modules"],
  ["process", "reaches the environment and the process"],
  ["globalThis", "reaches every global"],
  ["global", "reaches every global"],
  ["eval", "runs generated code"],
  ["Function", "runs generated code"],
  ["module", "reaches the module system"],
  ["exports", "reaches the module system"],
  ["fetch", "reaches the network"],
  ["WebSocket", "reaches the network"],
  ["XMLHttpRequest", "reaches the network"],
  ["EventSource", "reaches the network"],
]);

// Property names that lead from any value to the Function constructor or the prototype chain.
const FORBIDDEN_PROPERTIES: ReadonlySet<string> = new Set(["constructor", "__proto__", "prototype"]);

const ALLOWED_LIST = "`./prepare.ts` and `./src/engine/index.ts`";

/**
 * Checks the source of `train.ts` on its TypeScript syntax tree: it may import only
 * `./prepare.ts` and the engine, and may not reach modules, the process, globals or
 * generated code by any other way.
 *
 * @returns every violation, in source order; empty when the source is allowed.
 */
export function checkImports(source: string, fileName = "train.ts"): ImportViolation[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const violations: ImportViolation[] = [];
  const report = (node: ts.Node, message: string) => {
    const { line, character } = file.getLineAndCharacterOfPosition(node.getStart(file));
    violations.push({ line: line + 1, column: character + 1, message });
  };

  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      const specifier = ts.isStringLiteral(node.moduleSpecifier) ? node.moduleSpecifier.text : node.moduleSpecifier.getText(file);
      if (!ALLOWED_IMPORTS.has(specifier)) {
        report(node.moduleSpecifier, `Expected an import of ${ALLOWED_LIST}, got \`${specifier}\``);
      }
    } else if (ts.isImportEqualsDeclaration(node)) {
      report(node, `Expected an ES import of ${ALLOWED_LIST}, got \`import ${node.name.text} = ...\``);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      report(node, "Expected static imports only, got a dynamic `import()`");
    } else if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) {
      report(node, "Expected no `import.meta`, it reveals the module's location");
    } else if (ts.isIdentifier(node)) {
      checkIdentifier(node);
    } else if (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression)) {
      checkProperty(node.argumentExpression, node.argumentExpression.text);
    }
    ts.forEachChild(node, visit);
  };

  const checkIdentifier = (node: ts.Identifier) => {
    const parent = node.parent;
    // `x.name`, `{ name: 1 }` and `class { name() {} }` name a property, not a global.
    const namesProperty =
      (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
      (ts.isQualifiedName(parent) && parent.right === node) ||
      ((ts.isPropertyAssignment(parent) ||
        ts.isPropertyDeclaration(parent) ||
        ts.isMethodDeclaration(parent) ||
        ts.isPropertySignature(parent) ||
        ts.isGetAccessor(parent) ||
        ts.isSetAccessor(parent)) &&
        parent.name === node);
    if (namesProperty) {
      checkProperty(node, node.text);
      return;
    }
    const why = FORBIDDEN_GLOBALS.get(node.text);
    if (why !== undefined) report(node, `Expected no use of \`${node.text}\`, it ${why}`);
  };

  const checkProperty = (node: ts.Node, name: string) => {
    if (FORBIDDEN_PROPERTIES.has(name)) report(node, `Expected no access to \`${name}\`, it leads to the Function constructor`);
  };

  visit(file);
  return violations;
}

/** Formats violations as `file:line:col message` lines, the way compilers report errors. */
export function formatImportViolations(violations: readonly ImportViolation[], fileName = "train.ts"): string {
  return violations.map((v) => `${fileName}:${v.line}:${v.column} ${v.message}`).join("\n");
}
