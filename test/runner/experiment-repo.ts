/**
 * A temporary git repository shaped like a research repo: a base commit holding this project's
 * harness (prepare.ts, train.ts, src/, native/, package files) and experiment commits on top,
 * plus a checkout of the base commit (the harness) that uses this project's node_modules.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { execa } from "execa";
import type { RunExperimentOptions } from "../../src/runner/run-experiment.ts";

export const PROJECT = resolve(import.meta.dirname, "../..");

const HARNESS_FILES = ["prepare.ts", "train.ts", "package.json", "package-lock.json", "src", "native"];

/** A committed file: its content (text or bytes), as an executable, or a symbolic link to `symlink`. */
export type FileSpec = string | null | { content?: string | Uint8Array; executable?: boolean; symlink?: string };

export interface ExperimentRepo {
  root: string;
  repoDir: string;
  harnessDir: string;
  baseSha: string;
  /** Commits `files` (path -> content or {@link FileSpec}, null to delete) on top of the base commit, detached; returns the sha. */
  commit(files: Record<string, FileSpec>, message: string): Promise<string>;
}

/** The project's train.ts with `from` replaced by `to`; throws if `from` is not in it. */
export function editTrain(edits: [from: string, to: string][]): string {
  let source = readFileSync(join(PROJECT, "train.ts"), "utf8");
  for (const [from, to] of edits) {
    if (!source.includes(from)) throw new Error(`train.ts has no \`${from}\` to edit`);
    source = source.replace(from, to);
  }
  return source;
}

/**
 * Makes the repository. With `linkBuild`, the harness links this project's build/ (the
 * runner only reads it); without, whoever runs in it must put the addon there.
 */
export async function makeExperimentRepo(options: { linkBuild: boolean }): Promise<ExperimentRepo> {
  const root = mkdtempSync(join(tmpdir(), "ar-experiment-"));
  const repoDir = join(root, "repo");
  mkdirSync(repoDir);
  const git = async (...args: string[]) =>
    (await execa("git", ["-c", "user.name=autoresearch", "-c", "user.email=bot@example.com", "-c", "commit.gpgsign=false", ...args], { cwd: repoDir })).stdout;
  await git("init", "-q");
  for (const name of HARNESS_FILES) cpSync(join(PROJECT, name), join(repoDir, name), { recursive: true });
  await git("add", "-A");
  await git("commit", "-qm", "research branch head");
  const baseSha = await git("rev-parse", "HEAD");
  const harnessDir = join(root, "harness");
  await git("worktree", "add", "-q", "--detach", harnessDir, baseSha);
  symlinkSync(join(PROJECT, "node_modules"), join(harnessDir, "node_modules"));
  if (options.linkBuild) symlinkSync(join(PROJECT, "build"), join(harnessDir, "build"));
  const commit = async (files: Record<string, FileSpec>, message: string) => {
    await git("checkout", "-q", "--detach", baseSha);
    for (const [path, spec] of Object.entries(files)) {
      const file = join(repoDir, path);
      mkdirSync(dirname(file), { recursive: true });
      rmSync(file, { force: true });
      if (spec === null) continue;
      const { content = "", executable = false, symlink } = typeof spec === "string" ? { content: spec } : spec;
      if (symlink !== undefined) symlinkSync(symlink, file);
      else writeFileSync(file, content);
      if (executable) chmodSync(file, 0o755);
    }
    await git("add", "-A");
    await git("commit", "-qm", message);
    return git("rev-parse", "HEAD");
  };
  return { root, repoDir, harnessDir, baseSha, commit };
}

/**
 * Prepares the test profile's data in a cache of `repo`'s own and returns the runner options
 * for one run of `headSha`, its output in `repo.root/<name>`.
 */
export async function testProfileRuns(repo: ExperimentRepo): Promise<(headSha: string, name: string) => RunExperimentOptions> {
  const cacheDir = join(repo.root, "cache");
  await execa(process.execPath, ["--import", "tsx", "prepare.ts"], { cwd: PROJECT, env: { AUTORESEARCH_PROFILE: "test", AUTORESEARCH_CACHE_DIR: cacheDir } });
  return (headSha, name) => ({ harnessDir: repo.harnessDir, repoDir: repo.repoDir, baseSha: repo.baseSha, headSha, profile: "test", cacheDir, outDir: join(repo.root, name) });
}
