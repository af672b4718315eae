import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { EDITABLE_FILE } from "../runner/guards/diff.ts";
import { runExperiment, type ExperimentRun } from "../runner/run-experiment.ts";
import { CliError, EXIT } from "./cli-error.ts";
import { commitTree, git, resolveRef, treeWithFile } from "./git.ts";
import { LOCAL_FILES } from "./local-files.ts";
import { excludeLocalFiles, repoRoot } from "./open-work-repo.ts";

/** What one training run of the working copy needs. */
export interface TrainOptions {
  dir: string;
  harnessDir: string;
  /** The runner's profile name. */
  profile: string;
  cacheDir?: string;
  dataSource?: string;
  /** Where the training output goes as it comes. */
  echo: NodeJS.WritableStream;
  /** Aborting it kills the run (see `runExperiment`). */
  signal?: AbortSignal;
  /** Train without the sandbox (`--no-sandbox`; see runExperiment). */
  noSandbox?: boolean;
}

/**
 * Trains the working copy's `train.ts` once through the runner, against the checked-out
 * commit: the same guards, time limit and separate evaluator as every experiment. An edited
 * `train.ts` is committed to a loose commit (on no branch) for the runner to read; nothing
 * in the repository or its working tree changes. The run's files go to `runs/train-<time>`.
 *
 * @throws CliError (exit 3) when `dir` is not a git repository with a commit and a train.ts.
 */
export async function trainWorkingCopy(options: TrainOptions): Promise<ExperimentRun> {
  const root = await repoRoot(options.dir);
  const base = await resolveRef(root, "HEAD^{commit}");
  if (base === null) throw new CliError(`Expected a commit checked out in ${root}, got none. Commit train.ts and prepare.ts first.`, EXIT.repo);
  const source = await readFile(join(root, EDITABLE_FILE), "utf8").catch(() => {
    throw new CliError(`Expected \`${EDITABLE_FILE}\` in ${root}, got no such file`, EXIT.repo);
  });
  const committed = await git(root, ["show", `${base}:${EDITABLE_FILE}`], undefined, true).catch(() => null);
  const head =
    committed === source
      ? base
      : await commitTree(root, await treeWithFile(root, `${base}^{tree}`, EDITABLE_FILE, source), [base], `Train the working copy of ${EDITABLE_FILE}`);
  await excludeLocalFiles(root);
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  return runExperiment({
    harnessDir: options.harnessDir,
    repoDir: root,
    baseSha: base,
    headSha: head,
    profile: options.profile,
    outDir: join(root, LOCAL_FILES.runs, `train-${stamp}`),
    cacheDir: options.cacheDir,
    dataSource: options.dataSource,
    echo: options.echo,
    signal: options.signal,
    noSandbox: options.noSandbox,
  });
}
