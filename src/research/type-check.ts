import path from "node:path";
import ts from "typescript";

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
 * @returns the errors in the candidate file as `train.ts:line:col TSxxxx message`; empty when it compiles.
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
  return diagnostics.map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file || d.start === undefined) return `TS${d.code} ${message}`;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${fileName}:${line + 1}:${character + 1} TS${d.code} ${message}`;
  });
}
