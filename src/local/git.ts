import { execa } from "execa";

/** The identity of the commits the local loop writes: the loop, not the person running it, made them. */
const IDENTITY = {
  GIT_AUTHOR_NAME: "autoresearch",
  GIT_AUTHOR_EMAIL: "autoresearch@localhost",
  GIT_COMMITTER_NAME: "autoresearch",
  GIT_COMMITTER_EMAIL: "autoresearch@localhost",
};

/** A git command that failed, with its arguments, exit code and what it printed. */
export class GitError extends Error {
  override name = "GitError";
  constructor(
    message: string,
    readonly exitCode: number | undefined,
  ) {
    super(message);
  }
}

/**
 * Runs `git args` in `dir` and returns its stdout without the trailing newline (`raw`: as is,
 * for file contents). git runs in its own process group so that a Ctrl-C in the terminal
 * never stops it halfway through an update; the loop stops between its steps instead.
 *
 * @throws GitError naming the command and what git said.
 */
export async function git(dir: string, args: readonly string[], input?: string, raw = false): Promise<string> {
  const result = await execa("git", args, {
    cwd: dir,
    input,
    env: IDENTITY,
    detached: true,
    reject: false,
    stripFinalNewline: !raw,
  });
  if (result.failed) {
    const said = String(result.stderr || result.stdout || result.shortMessage || "").trim();
    throw new GitError(`\`git ${args.join(" ")}\` failed in ${dir} (exit ${result.exitCode}): ${said}`, result.exitCode);
  }
  return result.stdout;
}

/** The sha a revision names, or null when it names nothing. */
export async function resolveRef(dir: string, revision: string): Promise<string | null> {
  const sha = await git(dir, ["rev-parse", "--verify", "--quiet", revision]).catch((error: unknown) => {
    if (error instanceof GitError && error.exitCode === 1) return null;
    throw error;
  });
  return sha || null;
}

/** Writes a commit of `tree` with `parents` and returns its sha. */
export function commitTree(dir: string, tree: string, parents: readonly string[], message: string): Promise<string> {
  return git(dir, ["commit-tree", tree, ...parents.flatMap((p) => ["-p", p]), "-F", "-"], `${message}\n`);
}

/** The tree `base` with the top-level file `name` set to `content` (a regular file). */
export async function treeWithFile(dir: string, base: string, name: string, content: string): Promise<string> {
  const blob = await git(dir, ["hash-object", "-w", "--stdin"], content);
  const entries = (await git(dir, ["ls-tree", "-z", base])).split("\0").filter((line) => line && !line.endsWith(`\t${name}`));
  entries.push(`100644 blob ${blob}\t${name}`);
  return git(dir, ["mktree", "-z"], `${entries.join("\0")}\0`);
}
