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
  const engine = engineModules(program, checker, root);
  return diagnostics.map((d) => {
    const message = shortTypeNames(ts.flattenDiagnosticMessageText(d.messageText, "\n"), engine);
    if (!d.file || d.start === undefined) return `TS${d.code} ${message}`;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    const missing = NO_SUCH_NAME.has(d.code) ? missingName(checker, engine, d.file, d.start) : null;
    const text = missing === null ? message : `${message} ${whatExists(missing)}`;
    const quoted = d.file.text.split("\n")[line]!.trimEnd();
    return `${fileName}:${line + 1}:${character + 1} TS${d.code} ${text}\n${String(line + 1).padStart(5)} | ${quoted}`;
  });
}

const withoutExtension = (file: string) => file.replace(/\\/g, "/").replace(/\.[cm]?[jt]s$/, "");

/**
 * The engine's modules as train.ts names them, by file (without extension): the engine's index
 * is `torch`, and the modules it exports as `F` and `nn` are `F` and `nn`, wherever they live.
 */
function engineModules(program: ts.Program, checker: ts.TypeChecker, root: string): Map<string, string> {
  const modules = new Map<string, string>();
  const index = program.getSourceFile(path.join(root, "src/engine/index.ts"));
  const indexSymbol = index && checker.getSymbolAtLocation(index);
  if (!indexSymbol) return modules;
  modules.set(withoutExtension(index.fileName), "torch");
  for (const exported of checker.getExportsOfModule(indexSymbol)) {
    if (exported.name !== "F" && exported.name !== "nn") continue;
    const module = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const file = module.declarations?.find(ts.isSourceFile);
    if (file) modules.set(withoutExtension(file.fileName), exported.name);
  }
  return modules;
}

/** `typeof import("/abs/src/engine/functional", ...)` as the agent writes it: `typeof F`. */
function shortTypeNames(message: string, engine: ReadonlyMap<string, string>): string {
  return message.replace(/typeof import\("([^"]*)"(?:, \{ with: \{ "resolution-mode": "import" \} \})?\)/g, (_all, file: string) => `typeof ${engine.get(withoutExtension(file)) ?? path.basename(file)}`);
}

// Diagnostics about a name that does not exist (or is not callable): no member, no export, did-you-mean.
const NO_SUCH_NAME = new Set([2305, 2339, 2349, 2551, 2694, 2724, 6234]);

/** A name used in train.ts that does not exist, and the spellings the PyTorch table may list it under. */
interface MissingName {
  /** As written, with the engine's prefixes: `F.mish`, `x.float`, `torch.optim.AdamW`. */
  key: string;
  candidates: string[];
  /** What its owner does have, when that list is short enough to quote (F and nn). */
  members: string[] | null;
}

/** `a.b.c`, `a.b` (at least two segments), longest first. */
const prefixes = (name: string) => name.split(".").map((_, i, all) => all.slice(0, all.length - i).join(".")).filter((p) => p.includes("."));

/**
 * The name at `start` when it is a member of an engine module or of a Tensor (`F.gelu`,
 * `torch.nn.functional.gelu`, `x.masked_fill`), or an import from the engine; else null.
 */
function missingName(checker: ts.TypeChecker, engine: ReadonlyMap<string, string>, file: ts.SourceFile, start: number): MissingName | null {
  const node = tokenAt(file, start);
  if (!node || !ts.isIdentifier(node)) return null;
  if (ts.isImportSpecifier(node.parent)) return { key: `torch.${node.text}`, candidates: [`torch.${node.text}`, `F.${node.text}`, `nn.${node.text}`], members: null };
  if (!ts.isPropertyAccessExpression(node.parent) || node.parent.name !== node) return null;
  const owner = ownerAlias(checker, engine, node.parent.expression);
  if (owner === null) return null;
  if (owner === "x") return { key: `x.${node.text}`, candidates: [`x.${node.text}`], members: null };
  // The rest of the chain this name starts: torch.optim.AdamW, nn.functional.gelu.
  let chain: ts.Node = node.parent;
  while (ts.isPropertyAccessExpression(chain.parent) && chain.parent.expression === chain) chain = chain.parent;
  const full = `${owner}.${file.text.slice(node.getStart(file), chain.getEnd()).replace(/\s+/g, "")}`;
  const viaF = full.replace(/^nn\.functional\./, "F.");
  const members = owner === "torch" ? null : checker.getPropertiesOfType(checker.getTypeAtLocation(node.parent.expression)).map((s) => s.name).sort();
  return { key: full, candidates: [...new Set([...prefixes(viaF), ...prefixes(full), ...prefixes(`torch.${full}`)])], members };
}

/** `x` for a Tensor, `torch`/`F`/`nn` for the engine's modules, else null. */
function ownerAlias(checker: ts.TypeChecker, engine: ReadonlyMap<string, string>, expression: ts.Expression): string | null {
  const type = checker.getTypeAtLocation(expression);
  if (type.getSymbol()?.getName() === "Tensor") return "x";
  let symbol = checker.getSymbolAtLocation(expression);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const declaration = symbol?.declarations?.[0];
  return declaration && ts.isSourceFile(declaration) ? (engine.get(withoutExtension(declaration.fileName)) ?? null) : null;
}

/** The innermost token of `file` that covers `start`. */
function tokenAt(file: ts.SourceFile, start: number): ts.Node | undefined {
  const visit = (node: ts.Node): ts.Node | undefined =>
    node.getStart(file) <= start && start < node.getEnd() ? (ts.forEachChild(node, visit) ?? node) : undefined;
  return visit(file);
}

/**
 * What to write instead of a missing name: the engine reference's row for its PyTorch spelling,
 * else what its owner has (F, nn), else where the reference lists it.
 */
function whatExists(missing: MissingName): string {
  const names = pytorchNames();
  const hit = missing.candidates.find((c) => names.has(c));
  if (hit !== undefined) return `\`${hit}\` is PyTorch's spelling, not this engine's. Write instead: ${names.get(hit)!.replace(/`/g, "")}`;
  const owner = missing.key.split(".")[0]!;
  if (missing.members) return `\`${missing.key}\` is not in this engine; ${owner} has: ${missing.members.join(", ")}.`;
  const where = owner === "x" ? "what a Tensor has" : "every name the engine exports";
  return `\`${missing.key}\` is not in this engine: the engine reference (docs/engine-api.md) lists ${where}; compose it from those.`;
}
