/**
 * The directory one experiment trains in: the trusted harness (prepare.ts, src/, package.json,
 * node_modules and build from the base commit), the experiment's train.ts, a data view that
 * holds the training shards and the tokenizer but not the validation shard, and `out/`, the
 * one directory the run writes (trace, summary, temporary files). It also lists, as the
 * sandbox's view, which host path appears at each of those paths.
 */
import { constants } from "node:fs";
import { chmod, copyFile, cp, lstat, mkdir, open, readdir, realpath, rename, rm, symlink, writeFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { listShards } from "../data/list-shards.ts";
import { GRAPH_FILE, WEIGHTS_FILE } from "../data/trace-export.ts";
import type { Profile } from "../data/profiles.ts";
import { resolveDataLayout, type DataLayout } from "../data/resolve-data-layout.ts";
import type { SandboxView, ViewMount } from "./sandbox.ts";
import { trainSourceForProfile } from "./train-profiles.ts";

/** What {@link makeRunDir} assembles. */
export interface RunDirOptions {
  /** The run directory to create; it must not hold anything yet. */
  dir: string;
  /** The trusted checkout of the base commit, with its node_modules and build. */
  harnessDir: string;
  /** The experiment's train.ts, as committed. */
  trainSource: string;
  profile: Profile;
  /** Where the profile's data was prepared (shards and tokenizer). */
  data: DataLayout;
}

/** A run directory, ready for `node --import tsx train.ts`. */
export interface RunDir {
  dir: string;
  /** The line naming what the profile changed in train.ts, or null. */
  note: string | null;
  /** The one directory the run writes. */
  outputDir: string;
  /** Where prepare.ts writes the traced graph in run mode (inside `outputDir`). */
  traceDir: string;
  /** Where prepare.ts writes the run's figures (`--summary-json`, inside `outputDir`). */
  summaryPath: string;
  /** The environment that points prepare.ts at the data view, in run mode, and temporary files at `outputDir`. */
  env: Record<string, string>;
  /**
   * The same directory as the sandbox shows it: each path above, read-only, from its host
   * source (node_modules, build and the shards from the harness and the cache, never through
   * a link), and `outputDir` writable.
   */
  view: SandboxView;
}

/** Files and folders of the harness that the run uses: copied, so nothing in it points back. */
const COPIED = ["prepare.ts", "package.json", "src"];
/** Large and read-only: linked (and mounted read-only in the sandbox). */
const LINKED = ["node_modules", "build"];

/**
 * Assembles the run directory. train.ts is rewritten for the profile (every change named in
 * `note`). The data view links the training shards, copies the tokenizer, and puts an empty
 * file where the validation shard would be, so that prepare.ts splits the shards as usual.
 *
 * @throws TrainSourceError when the profile cannot rewrite train.ts.
 */
export async function makeRunDir(options: RunDirOptions): Promise<RunDir> {
  const { dir, harnessDir, profile, data } = options;
  const { source, note } = trainSourceForProfile(options.trainSource, profile.name);
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length) throw new Error(`Expected the run directory \`${dir}\` to be empty`);
  const readOnly: ViewMount[] = [];
  const mount = (source: string, target = source) => readOnly.push({ source, target });
  for (const name of COPIED) {
    await cp(join(harnessDir, name), join(dir, name), { recursive: true });
    mount(join(dir, name));
  }
  for (const name of LINKED) {
    const target = await realpath(join(harnessDir, name));
    await symlink(target, join(dir, name));
    mount(target, join(dir, name));
  }
  await writeFile(join(dir, "train.ts"), source);
  mount(join(dir, "train.ts"));

  const shards = await listShards(data.shardDir);
  const shardView = join(dir, "data", "shards");
  await mkdir(shardView, { recursive: true });
  for (const shard of shards.train) {
    const target = await realpath(shard);
    await symlink(target, join(shardView, basename(shard)));
    mount(target, join(shardView, basename(shard)));
  }
  await writeFile(join(shardView, basename(shards.val)), "");
  mount(join(shardView, basename(shards.val)));

  const dataEnv = { AUTORESEARCH_PROFILE: profile.name, AUTORESEARCH_DATA: shardView, AUTORESEARCH_CACHE_DIR: join(dir, "data", "cache") };
  const view = resolveDataLayout(profile, [], dataEnv);
  await mkdir(view.tokenizerDir, { recursive: true });
  for (const file of await readdir(data.tokenizerDir)) await copyFile(join(data.tokenizerDir, file), join(view.tokenizerDir, file));
  mount(view.tokenizerDir);

  const outputDir = join(dir, "out");
  const tmp = join(outputDir, "tmp");
  await mkdir(tmp, { recursive: true });
  const traceDir = join(outputDir, "trace");
  return {
    dir,
    note,
    outputDir,
    traceDir,
    summaryPath: join(outputDir, "summary.json"),
    env: { ...dataEnv, AUTORESEARCH_RUN_MODE: "train", AUTORESEARCH_TRACE_DIR: traceDir, TMPDIR: tmp, HOME: tmp },
    view: { readOnly, writable: outputDir, cwd: dir },
  };
}

/** The largest summary the runner reads from a run. */
const MAX_SUMMARY_BYTES = 1 << 20;

/**
 * A small text file the run wrote, or null when it is missing or is not a regular file of at
 * most 1 MiB (a link, a FIFO, a folder: whatever the run left there, reading it never blocks
 * or leaves the directory).
 */
export async function readRunFile(path: string): Promise<string | null> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (handle === null) return null;
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > MAX_SUMMARY_BYTES) return null;
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

/**
 * Moves the trace the run handed over out of its output directory into `to`, a folder only the
 * runner writes, so the evaluator reads regular files that nothing of the run can change.
 *
 * @returns "missing" when the run left no graph; a reason when what it left is not a trace's
 *          regular files; "taken" when both files are in `to`.
 */
export async function takeTrace(run: RunDir, to: string): Promise<"taken" | "missing" | { reason: string }> {
  const where = (path: string) => `\`${relative(run.outputDir, path)}\``;
  const dir = await lstat(run.traceDir).catch(() => null);
  if (dir === null) return "missing";
  if (!dir.isDirectory()) return { reason: `Expected the run to leave ${where(run.traceDir)} as a folder, got ${kindOf(dir)}` };
  if ((await lstat(join(run.traceDir, GRAPH_FILE)).catch(() => null)) === null) return "missing";
  await mkdir(to, { recursive: true });
  for (const name of [GRAPH_FILE, WEIGHTS_FILE]) {
    const path = join(run.traceDir, name);
    const stat = await lstat(path).catch(() => null);
    if (!stat?.isFile()) return { reason: `Expected the run to leave ${where(path)} as a regular file, got ${stat ? kindOf(stat) : "nothing"}` };
    await rename(path, join(to, name));
  }
  return "taken";
}

function kindOf(stat: Awaited<ReturnType<typeof lstat>>): string {
  if (stat.isSymbolicLink()) return "a symbolic link";
  if (stat.isDirectory()) return "a folder";
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isSocket()) return "a socket";
  return stat.isFile() ? "a regular file" : "a device";
}

/**
 * Removes a run directory whatever the run left in it (folders it made unreadable included).
 *
 * @returns null, or the error when even that failed (the caller notes it and goes on).
 */
export async function removeRunDir(dir: string): Promise<Error | null> {
  try {
    await rm(dir, { recursive: true, force: true });
    return null;
  } catch {
    // A folder without read or search permission: make every folder the runner's again, then retry.
    await allowRemoval(dir);
    return rm(dir, { recursive: true, force: true }).then(() => null, (error: Error) => error);
  }
}

async function allowRemoval(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => {});
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) await allowRemoval(join(dir, entry.name));
  }
}
