/**
 * Prints the installed folders (relative to the project root) of some packages and everything
 * they depend on, so pack.sh can carry just those to a host without npm.
 *
 *   npx tsx bench/gpu/dependency-closure.ts cmake-js node-addon-api node-api-headers
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const root = process.cwd();

/** Node's lookup: node_modules/<name> in `from` or the nearest folder above it that has one. */
function locate(name: string, from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (dir === path.dirname(dir)) throw new Error(`Expected ${name} to be installed (looked from ${from} upwards)`);
  }
}

const seen = new Set<string>();
function visit(dir: string): void {
  if (seen.has(dir)) return;
  seen.add(dir);
  const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  for (const dep of Object.keys(pkg.dependencies ?? {})) visit(locate(dep, dir));
}

for (const name of process.argv.slice(2)) visit(locate(name, root));
for (const dir of [...seen].sort()) console.log(path.relative(root, dir));
