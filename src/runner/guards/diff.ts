/** The one file an experiment may change. */
export const EDITABLE_FILE = "train.ts";

/**
 * Checks the paths an experiment changed (as `git diff --name-only` lists them,
 * both sides of a rename included) against the one editable file.
 *
 * @returns one message per path other than `train.ts`; empty when the change is allowed.
 */
export function checkDiff(paths: readonly string[]): string[] {
  return paths
    .filter((path) => path.replace(/^\.\//, "") !== EDITABLE_FILE)
    .map((path) => `Expected only \`${EDITABLE_FILE}\` to change, got a change to \`${path}\``);
}
