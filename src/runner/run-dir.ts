/**
 * The directory one experiment trains in: the trusted harness (prepare.ts, src/, package.json,
 * node_modules and build from the base commit), the experiment's train.ts, and a data view
 * that holds the training shards and the tokenizer, but not the validation shard.
 */
import { copyFile, cp, mkdir, readdir, realpath, symlink, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { listShards } from "../data/list-shards.ts";
import type { Profile } from "../data/profiles.ts";
import { resolveDataLayout, type DataLayout } from "../data/resolve-data-layout.ts";
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
  /** Where prepare.ts writes the traced graph in run mode. */
  traceDir: string;
  /** The environment that points prepare.ts at the data view, in run mode. */
  env: Record<string, string>;
}

/** Files and folders of the harness that the run uses: copied, so nothing in it points back. */
const COPIED = ["prepare.ts", "package.json", "src"];
/** Large and read-only: linked. */
const LINKED = ["node_modules", "build"];

/**
 * Assembles the run directory. train.ts is rewritten for the profile (every change named in
 * `note`). The data view links the training shards, copies the tokenizer, and puts an empty
 * file where the validation shard would be, so that prepare.ts splits the shards as usual.
 */
export async function makeRunDir(options: RunDirOptions): Promise<RunDir> {
  const { dir, harnessDir, profile, data } = options;
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length) throw new Error(`Expected the run directory \`${dir}\` to be empty`);
  for (const name of COPIED) await cp(join(harnessDir, name), join(dir, name), { recursive: true });
  for (const name of LINKED) await symlink(await realpath(join(harnessDir, name)), join(dir, name));
  const { source, note } = trainSourceForProfile(options.trainSource, profile.name);
  await writeFile(join(dir, "train.ts"), source);

  const shards = await listShards(data.shardDir);
  const shardView = join(dir, "data", "shards");
  await mkdir(shardView, { recursive: true });
  for (const shard of shards.train) await symlink(await realpath(shard), join(shardView, basename(shard)));
  await writeFile(join(shardView, basename(shards.val)), "");

  const env = { AUTORESEARCH_PROFILE: profile.name, AUTORESEARCH_DATA: shardView, AUTORESEARCH_CACHE_DIR: join(dir, "data", "cache") };
  const view = resolveDataLayout(profile, [], env);
  await mkdir(view.tokenizerDir, { recursive: true });
  for (const file of await readdir(data.tokenizerDir)) await copyFile(join(data.tokenizerDir, file), join(view.tokenizerDir, file));

  const traceDir = join(dir, "trace");
  return { dir, note, traceDir, env: { ...env, AUTORESEARCH_RUN_MODE: "train", AUTORESEARCH_TRACE_DIR: traceDir } };
}
