import ts from "typescript";

/** One plain `const` hyperparameter of `train.ts`, such as `const DEPTH = 8;`. */
export interface Hyperparameter {
  name: string;
  /** `number` (`0.04`, `-1`), `power` (`2 ** 19`), `numbers` (`[0.8, 0.95]`) or `string` (`"SSSL"`). */
  kind: "number" | "power" | "numbers" | "string";
  value: number | number[] | string;
  /** The whole statement, e.g. `const MATRIX_LR = 0.04;`: unique in the file, so a search text. */
  statement: string;
  /** Where the initializer sits inside `statement`. */
  initializer: { start: number; end: number };
  /** Where `statement` starts in the source. */
  start: number;
}

function numberOf(node: ts.Expression): number | null {
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(node.operand)) {
    return -Number(node.operand.text);
  }
  return null;
}

function valueOf(node: ts.Expression): Pick<Hyperparameter, "kind" | "value"> | null {
  while (ts.isAsExpression(node) || ts.isParenthesizedExpression(node) || ts.isSatisfiesExpression(node)) node = node.expression;
  const number = numberOf(node);
  if (number !== null) return { kind: "number", value: number };
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return { kind: "string", value: node.text };
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.AsteriskAsteriskToken) {
    const base = numberOf(node.left);
    const exponent = numberOf(node.right);
    if (base !== null && exponent !== null) return { kind: "power", value: [base, exponent] };
  }
  if (ts.isArrayLiteralExpression(node) && node.elements.length > 0) {
    const values = node.elements.map((e) => numberOf(e));
    if (values.every((v) => v !== null)) return { kind: "numbers", value: values as number[] };
  }
  return null;
}

/**
 * How `name` is declared at the top level of `source`, in words, for an error that says why it
 * is not a hyperparameter: "declared with `let`", "declared 2 times", "not declared at the top level".
 */
export function describeDeclaration(source: string, name: string): string {
  const file = ts.createSourceFile("train.ts", source, ts.ScriptTarget.Latest, true);
  const found = file.statements.filter(ts.isVariableStatement).flatMap((statement) =>
    statement.declarationList.declarations.filter((d) => ts.isIdentifier(d.name) && d.name.text === name).map((d) => ({ statement, d })));
  if (found.length === 0) return "not declared at the top level";
  if (found.length > 1) return `declared ${found.length} times`;
  const { statement, d } = found[0]!;
  const flags = statement.declarationList.flags;
  if (!(flags & ts.NodeFlags.Const)) return `declared with \`${flags & ts.NodeFlags.Let ? "let" : "var"}\``;
  if (statement.declarationList.declarations.length > 1) return "declared in a statement with other consts";
  return `declared as \`${d.getText(file).slice(0, 60)}\`, whose value is not a number, a power, an array of numbers or a string`;
}

/**
 * Reads the hyperparameter block of `train.ts`: top-level `const NAME = literal` lines
 * whose name is in UPPER_SNAKE_CASE, in source order.
 */
export function readHyperparameters(source: string): Hyperparameter[] {
  const file = ts.createSourceFile("train.ts", source, ts.ScriptTarget.Latest, true);
  const found: Hyperparameter[] = [];
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement) || !(statement.declarationList.flags & ts.NodeFlags.Const)) continue;
    const declarations = statement.declarationList.declarations;
    const declaration = declarations[0];
    if (declarations.length !== 1 || !declaration?.initializer || !ts.isIdentifier(declaration.name)) continue;
    if (!/^[A-Z][A-Z0-9_]*$/.test(declaration.name.text)) continue;
    const parsed = valueOf(declaration.initializer);
    if (parsed === null) continue;
    const start = statement.getStart(file);
    found.push({
      name: declaration.name.text,
      ...parsed,
      statement: statement.getText(file),
      initializer: { start: declaration.initializer.getStart(file) - start, end: declaration.initializer.getEnd() - start },
      start,
    });
  }
  return found;
}
