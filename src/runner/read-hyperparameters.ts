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
    });
  }
  return found;
}
