import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";

/**
 * Whether the module at `moduleUrl` (its `import.meta.url`) is the program node was started
 * with, through any symlink (npx's bin links): a CLI runs its main only then, so importing it
 * (a test, another module) runs nothing.
 */
export function isMainModule(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && entry !== "" && moduleUrl === pathToFileURL(realpathSync(entry)).href;
}
