import path from "node:path";
import ts from "typescript";
import { pytorchNames } from "./engine-reference.ts";

const DEFAULT_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  skipLibCheck: true,
  allowImportingTsExtensions: true,
};

// Parsed files by path and modification time: the libraries and the engine are parsed once.
const parsed = new Map<string, { mtime: number; file: ts.SourceFile }>();

/** Compiler options from `root/tsconfig.json` when there is one, else strict ES2022 defaults. */
function compilerOptions(root: string): ts.CompilerOptions {
  const configPath = path.join(root, "tsconfig.json");
  if (!ts.sys.fileExists(configPath)) return DEFAULT_OPTIONS;
  const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
  if (error) throw new Error(`Expected ${configPath} to be valid JSON: ${ts.flattenDiagnosticMessageText(error.messageText, " ")}`);
  return ts.parseJsonConfigFileContent(config, ts.sys, root).options;
}

/**
 * Type-checks a candidate `train.ts` as if it were the file `fileName` in the project at
 * `root` (where `prepare.ts` and the engine live), without writing it to disk.
 *
 * @returns the errors in the candidate file as `train.ts:line:col TSxxxx message` followed by
 *   the line itself; a name the engine lacks says what the engine reference says to write
 *   instead. Empty when it compiles.
 */
export function typeCheck(source: string, root: string, fileName = "train.ts"): string[] {
  const target = path.resolve(root, fileName);
  const options = { ...compilerOptions(root), noEmit: true };
  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => path.resolve(file) === target || fileExists.call(host, file);
  host.readFile = (file) => (path.resolve(file) === target ? source : readFile.call(host, file));
  host.getSourceFile = (file, language, onError, shouldCreate) => {
    if (path.resolve(file) === target) return ts.createSourceFile(file, source, language, true);
    const mtime = ts.sys.getModifiedTime?.(file)?.getTime() ?? 0;
    const key = `${file}\0${JSON.stringify(language)}`;
    const cached = parsed.get(key);
    if (cached?.mtime === mtime) return cached.file;
    const created = getSourceFile.call(host, file, language, onError, shouldCreate);
    if (created) parsed.set(key, { mtime, file: created });
    return created;
  };

  const program = ts.createProgram({ rootNames: [target], options, host });
  const candidate = program.getSourceFile(target);
  const diagnostics = [
    ...program.getSyntacticDiagnostics(candidate),
    ...program.getSemanticDiagnostics(candidate),
  ];
  const checker = program.getTypeChecker();
  return diagnostics.map((d) => {
    const message = shortTypeNames(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    if (!d.file || d.start === undefined) return `TS${d.code} ${message}`;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    const missing = missingName(checker, d.file, d.start);
    const instead = missing === null ? undefined : insteadOf(missing);
    const text = instead === undefined ? message : `${message} \`${missing!.key}\` is PyTorch's spelling, not this engine's. Write instead: ${instead}`;
    const quoted = d.file.text.split("\n")[line]!.trimEnd();
    return `${fileName}:${line + 1}:${character + 1} TS${d.code} ${text}\n${String(line + 1).padStart(5)} | ${quoted}`;
  });
}

/** `typeof import("/abs/src/engine/functional", ...)` as the agent writes it: `typeof F`. */
function shortTypeNames(message: string): string {
  return message.replace(/typeof import\("([^"]*)"(?:, \{ with: \{ "resolution-mode": "import" \} \})?\)/g, (_all, file: string) => `typeof ${moduleAlias(file) ?? path.basename(file)}`);
}

/** How train.ts names an engine module: `torch`, `F` or `nn`; null for other modules. */
function moduleAlias(file: string): string | null {
  const normal = file.replace(/\\/g, "/").replace(/\.[jt]s$/, "");
  if (!normal.includes("/src/engine/")) return null;
  return { index: "torch", functional: "F", nn: "nn" }[path.basename(normal)] ?? null;
}

/** A name used in train.ts that does not exist, and the spellings the PyTorch table may list it under. */
interface MissingName {
  /** The spelling the table listed (set once found): `F.gelu`, `x.float`, `torch.optim.AdamW`. */
  key: string;
  candidates: string[];
}

/** `a.b.c`, `a.b` (at least two segments), longest first. */
const prefixes = (name: string) => name.split(".").map((_, i, all) => all.slice(0, all.length - i).join(".")).filter((p) => p.includes("."));

/**
 * The name at `start` when it is a member of an engine module or of a Tensor (`F.gelu`,
 * `torch.nn.functional.gelu`, `x.masked_fill`), or an import from the engine; else null.
 */
function missingName(checker: ts.TypeChecker, file: ts.SourceFile, start: number): MissingName | null {
  const node = tokenAt(file, start);
  if (!node || !ts.isIdentifier(node)) return null;
  if (ts.isImportSpecifier(node.parent)) return { key: node.text, candidates: [`torch.${node.text}`, `F.${node.text}`, `nn.${node.text}`] };
  if (!ts.isPropertyAccessExpression(node.parent) || node.parent.name !== node) return null;
  const owner = ownerAlias(checker, node.parent.expression);
  if (owner === null) return null;
  if (owner === "x") return { key: `x.${node.text}`, candidates: [`x.${node.text}`] };
  // The rest of the chain this name starts: torch.optim.AdamW, nn.functional.gelu.
  let chain: ts.Node = node.parent;
  while (ts.isPropertyAccessExpression(chain.parent) && chain.parent.expression === chain) chain = chain.parent;
  const full = `${owner}.${file.text.slice(node.getStart(file), chain.getEnd()).replace(/\s+/g, "")}`;
  const viaF = full.replace(/^nn\.functional\./, "F.");
  return { key: full, candidates: [...new Set([...prefixes(viaF), ...prefixes(full), ...prefixes(`torch.${full}`)])] };
}

/** `x` for a Tensor, `torch`/`F`/`nn` for the engine's modules, else null. */
function ownerAlias(checker: ts.TypeChecker, expression: ts.Expression): string | null {
  const type = checker.getTypeAtLocation(expression);
  if (type.getSymbol()?.getName() === "Tensor") return "x";
  let symbol = checker.getSymbolAtLocation(expression);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const declaration = symbol?.declarations?.[0];
  return declaration && ts.isSourceFile(declaration) ? moduleAlias(declaration.fileName) : null;
}

/** The innermost token of `file` that covers `start`. */
function tokenAt(file: ts.SourceFile, start: number): ts.Node | undefined {
  const visit = (node: ts.Node): ts.Node | undefined =>
    node.getStart(file) <= start && start < node.getEnd() ? (ts.forEachChild(node, visit) ?? node) : undefined;
  return visit(file);
}

/** What the engine reference says to write instead of the first candidate it lists. */
function insteadOf(missing: MissingName): string | undefined {
  const names = pytorchNames();
  const hit = missing.candidates.find((c) => names.has(c));
  if (hit === undefined) return undefined;
  missing.key = hit;
  return names.get(hit)!.replace(/`/g, "");
}
