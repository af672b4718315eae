import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { RESEARCH_FILES } from "../research/agent.ts";
import { CliError, EXIT } from "./cli-error.ts";
import { git, resolveRef } from "./git.ts";
import { excludeLocalFiles } from "./open-work-repo.ts";

/** The branch a new work repository researches on. */
export const WORK_BRANCH = "main";

/**
 * Creates a work repository at `dir`: a git repository on `main` whose first commit holds
 * the harness's `train.ts`, `prepare.ts` and `program.md`. The engine (and its reference,
 * docs/engine-api.md), the data code and the runner stay in the harness (this package), which
 * every run uses as its trusted base. An existing work repository is left as it is.
 *
 * @returns whether it was created.
 * @throws CliError (exit 3) when `dir` holds something else.
 */
export async function initWorkRepo(dir: string, harnessDir: string): Promise<boolean> {
  const root = resolve(dir);
  if (existsSync(root) && (await readdir(root)).length > 0) {
    const isWorkRepo = existsSync(join(root, ".git")) && (await resolveRef(root, "HEAD:train.ts")) !== null;
    if (isWorkRepo) return false;
    throw new CliError(`Expected \`${dir}\` to be empty or a work repository with train.ts committed, got a directory with other files`, EXIT.repo);
  }
  await mkdir(root, { recursive: true });
  await git(root, ["init", "--quiet", `--initial-branch=${WORK_BRANCH}`]);
  const files = RESEARCH_FILES.filter((name) => existsSync(join(harnessDir, name)));
  for (const name of files) await copyFile(join(harnessDir, name), join(root, name));
  await excludeLocalFiles(root);
  await git(root, ["add", "--", ...files]);
  await git(root, ["commit", "--quiet", "--no-verify", "-m", `Start the research from autoresearch's ${files.join(", ")}`]);
  return true;
}
