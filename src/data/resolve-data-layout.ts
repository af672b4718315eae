import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { CLIMBMIX_URL, CLIMBMIX_VAL_SHARD } from "./download-shards.ts";
import { readFlag, type Profile } from "./profiles.ts";

/** Where the shards come from, once the flags and environment are applied to the profile. */
export type DataSource =
  | { kind: "climbmix"; baseUrl: string; trainShards: number }
  | { kind: "synthetic"; trainShards: number; shardBytes: number; seed: number }
  | { kind: "local"; dir: string };

/** Every path the data of one source and profile lives at. */
export interface DataLayout {
  source: DataSource;
  /** Root of the cache; each source gets its own folder inside, so sources never mix. */
  cacheDir: string;
  /** The folder of shards: downloaded or generated into the cache, or the local directory itself. */
  shardDir: string;
  /** The tokenizer trained on this source for this profile. */
  tokenizerDir: string;
  /** The command that prepares this layout, for error messages. */
  prepareCommand: string;
}

/**
 * Apply the flags (`--source DIR|URL`, `--num-shards N`, `--cache-dir DIR`) and the
 * environment (`AUTORESEARCH_DATA`, `AUTORESEARCH_CACHE_DIR`) to `profile`. Flags win over
 * the environment. A URL source is a mirror of climbmix with the same shard names.
 */
export function resolveDataLayout(profile: Profile, argv: readonly string[], env: NodeJS.ProcessEnv): DataLayout {
  const cacheDir = resolve(readFlag(argv, "cache-dir") ?? env.AUTORESEARCH_CACHE_DIR ?? join(homedir(), ".cache", "autoresearch"));
  const sourceFlag = readFlag(argv, "source") ?? env.AUTORESEARCH_DATA;
  const numShards = readFlag(argv, "num-shards");
  let source: DataSource;
  if (sourceFlag && !/^https?:\/\//.test(sourceFlag)) source = { kind: "local", dir: resolve(sourceFlag) };
  else if (sourceFlag || profile.source.kind === "climbmix") {
    const trainShards = profile.source.kind === "climbmix" ? profile.source.trainShards : 10;
    source = { kind: "climbmix", baseUrl: (sourceFlag ?? CLIMBMIX_URL).replace(/\/+$/, ""), trainShards };
  } else source = { ...profile.source };

  if (numShards !== undefined) {
    const n = Number(numShards);
    if (source.kind !== "climbmix") {
      throw new Error(`Expected \`--num-shards\` only with the climbmix download, got it with a ${source.kind} source`);
    }
    if (!Number.isInteger(n) || n < 1 || n > CLIMBMIX_VAL_SHARD) {
      throw new Error(`Expected \`--num-shards\` to be an integer from 1 to ${CLIMBMIX_VAL_SHARD}, got \`${numShards}\``);
    }
    source.trainShards = n;
  }

  const sourceRoot = join(cacheDir, sourceId(source));
  const flags = [
    profile.name === "default" ? "" : ` --profile ${profile.name}`,
    source.kind === "local" ? ` --source ${source.dir}` : source.kind === "climbmix" && source.baseUrl !== CLIMBMIX_URL ? ` --source ${source.baseUrl}` : "",
    readFlag(argv, "cache-dir") ? ` --cache-dir ${cacheDir}` : "",
  ].join("");
  return {
    source,
    cacheDir,
    shardDir: source.kind === "local" ? source.dir : join(sourceRoot, "shards"),
    tokenizerDir: join(sourceRoot, profile.name),
    prepareCommand: `npx tsx prepare.ts${flags}`,
  };
}

/** The source's folder name in the cache. */
function sourceId(source: DataSource): string {
  switch (source.kind) {
    case "climbmix":
      return "climbmix-400b-shuffle";
    case "synthetic":
      return `synthetic-seed${source.seed}-${source.trainShards}x${source.shardBytes}`;
    case "local":
      return `local-${basename(source.dir)}-${createHash("sha256").update(source.dir).digest("hex").slice(0, 8)}`;
  }
}
