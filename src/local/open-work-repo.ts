import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { RESEARCH_FILES } from "../research/agent.ts";
import { CliError, EXIT } from "./cli-error.ts";
import { git, GitError, resolveRef } from "./git.ts";
import { LOCAL_FILES } from "./local-files.ts";
import { readState } from "./local-state.ts";

/** A work repository the loop may use: its root and research branch. */
export interface WorkRepo {
  root: string;
  branch: string;
}

const list = (names: readonly string[]) => names.map((n) => `\`${n}\``).join(", ");

/** The top level of the git repository at `dir`. @throws CliError (exit 3) when there is none. */
export async function repoRoot(dir: string): Promise<string> {
  const path = resolve(dir);
  if (!existsSync(path)) throw new CliError(`Expected \`--dir\` to be a git repository, got \`${path}\`, which does not exist. Create one with \`autoresearch init ${dir}\`.`, EXIT.repo);
  return git(path, ["rev-parse", "--show-toplevel"]).catch((error: unknown) => {
    if (!(error instanceof GitError)) throw error;
    throw new CliError(`Expected \`--dir\` to be a git repository, got \`${path}\`, which is not one. Create one with \`autoresearch init DIR\`, or run \`git init\` there and commit train.ts, prepare.ts and program.md.`, EXIT.repo);
  });
}

/**
 * Checks that the loop can work in `dir`: a git repository, a research branch with
 * `train.ts`, `prepare.ts` and `program.md` committed, and no local changes to tracked files
 * (they are refused, never stashed: the loop must not touch work it did not make).
 * The research branch is the one a previous run recorded, else the checked-out one.
 * It also lists the files the loop writes in `.git/info/exclude`.
 *
 * @throws CliError with exit code 3 saying what is wrong.
 */
export async function openWorkRepo(dir: string): Promise<WorkRepo> {
  const root = await repoRoot(dir);
  const recorded = (await readState(root))?.state.branch;
  const current = await git(root, ["symbolic-ref", "--quiet", "--short", "HEAD"]).catch(() => null);
  const branch = recorded ?? current;
  if (branch === null) throw new CliError(`Expected a branch to be checked out in ${root} (it becomes the research branch), got a detached HEAD`, EXIT.repo);
  if ((await resolveRef(root, `refs/heads/${branch}^{commit}`)) === null) {
    throw new CliError(`Expected the research branch \`${branch}\` of ${root} to have a commit, got none. Commit train.ts, prepare.ts and program.md first.`, EXIT.repo);
  }

  const changed = (await git(root, ["status", "--porcelain", "--untracked-files=no"])).split("\n").filter(Boolean).map((line) => line.slice(3));
  if (changed.length) {
    throw new CliError(`Expected a clean working tree in ${root}, got local changes to ${list(changed)}. Commit or stash them yourself; autoresearch never stashes your work.`, EXIT.repo);
  }
  const tracked = (await git(root, ["ls-tree", "--name-only", `refs/heads/${branch}`])).split("\n");
  const missing = RESEARCH_FILES.filter((name) => !tracked.includes(name));
  if (missing.length) {
    throw new CliError(`Expected ${list(missing)} on the research branch \`${branch}\` of ${root}, got no such file. \`autoresearch init DIR\` creates a repository with them.`, EXIT.repo);
  }
  await excludeLocalFiles(root);
  return { root, branch };
}

/** Adds the files the loop writes to `.git/info/exclude`, so they stay untracked and never make the tree dirty. */
export async function excludeLocalFiles(root: string): Promise<void> {
  const path = resolve(root, await git(root, ["rev-parse", "--git-path", "info/exclude"]));
  const text = await readFile(path, "utf8").catch(() => "");
  const lines = new Set(text.split("\n"));
  const missing = Object.values(LOCAL_FILES).map((name) => `/${name}`).filter((line) => !lines.has(line));
  if (missing.length === 0) return;
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, `${text && !text.endsWith("\n") ? "\n" : ""}# written by autoresearch\n${missing.join("\n")}\n`);
}
