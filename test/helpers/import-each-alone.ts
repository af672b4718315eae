/**
 * Imports each file named on the command line into a module graph of its own (see
 * fresh-graph-hooks.mjs) and prints, as its last line, a JSON array of
 * `{ file, error, output }`: the error the import threw, if any, and what it wrote to stdout or
 * stderr (a module that runs a command line on import writes its usage or its errors).
 * Run as `node --import tsx test/helpers/import-each-alone.ts FILE...`.
 */
import { register } from "node:module";
import { writeSync } from "node:fs";
import { pathToFileURL } from "node:url";

register(new URL("./fresh-graph-hooks.mjs", import.meta.url));

interface ImportResult {
  file: string;
  error: string | null;
  output: string;
}

/** Runs `load` with stdout and stderr captured; returns what it threw and what it wrote. */
async function captured(load: () => Promise<unknown>): Promise<Omit<ImportResult, "file">> {
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((s) => s.write);
  let output = "";
  for (const s of streams) {
    s.write = ((chunk: string | Uint8Array) => {
      output += chunk.toString();
      return true;
    }) as typeof s.write;
  }
  try {
    await load();
    return { error: null, output };
  } catch (error) {
    return { error: String((error as Error).stack ?? error), output };
  } finally {
    streams.forEach((s, i) => (s.write = writes[i]));
  }
}

const results: ImportResult[] = [];
for (const [round, file] of process.argv.slice(2).entries()) {
  const url = pathToFileURL(file);
  url.searchParams.set("alone", String(round));
  results.push({ file, ...(await captured(() => import(url.href))) });
}
writeSync(1, `\n${JSON.stringify(results)}\n`);
// A module may leave a timer or a server behind; what it did on import is all this checks.
process.exit(0);
