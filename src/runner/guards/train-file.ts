/**
 * Reads `train.ts` from a commit as the runner will run it, or says why it cannot: it must be a
 * regular file (git mode 100644: not a symbolic link, an executable, a submodule or a folder),
 * at most {@link MAX_TRAIN_BYTES} bytes, and valid UTF-8 text.
 */
import { execa } from "execa";
import { EDITABLE_FILE } from "./diff.ts";

/** The largest train.ts the runner takes (the reference-sized one is under 20 KB). */
export const MAX_TRAIN_BYTES = 1 << 20;

const REGULAR_FILE = "100644";
const MODE_NAMES: Record<string, string> = { "100755": "an executable file", "120000": "a symbolic link", "160000": "a submodule", "040000": "a folder" };

/** The source, or the reason to reject the commit. */
export type TrainFile = { source: string } | { reason: string };

/** Reads `train.ts` at `commit` in the git repository `repoDir`; see the module comment. */
export async function readTrainFile(repoDir: string, commit: string): Promise<TrainFile> {
  const git = async (args: string[]) => (await execa("git", args, { cwd: repoDir, encoding: "buffer", stripFinalNewline: false })).stdout;
  const text = async (args: string[]) => new TextDecoder().decode(await git(args));
  const entry = (await text(["ls-tree", "-z", commit, "--", EDITABLE_FILE])).split("\0")[0] ?? "";
  const match = /^(\d+) \w+ ([0-9a-f]+)\t/.exec(entry);
  if (!match) return { reason: `Expected \`${EDITABLE_FILE}\` at ${commit}, but the commit has none` };
  const [, mode, object] = match as unknown as [string, string, string];
  if (mode !== REGULAR_FILE) {
    return { reason: `Expected \`${EDITABLE_FILE}\` to be a regular file (git mode ${REGULAR_FILE}), got ${MODE_NAMES[mode] ?? "an entry"} (mode ${mode})` };
  }
  const size = Number((await text(["cat-file", "-s", object])).trim());
  if (size > MAX_TRAIN_BYTES) return { reason: `Expected \`${EDITABLE_FILE}\` to be at most ${MAX_TRAIN_BYTES} bytes, got ${size}` };
  const bytes = await git(["cat-file", "blob", object]);
  let source: string;
  try {
    source = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { reason: `Expected \`${EDITABLE_FILE}\` to be UTF-8 text, got bytes that are not UTF-8` };
  }
  if (source.includes("\0")) return { reason: `Expected \`${EDITABLE_FILE}\` to be text, got a NUL byte at offset ${source.indexOf("\0")}` };
  return { source };
}
