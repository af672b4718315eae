/**
 * The native addon, built once per source and toolchain. The cache key hashes every file of
 * native/ with the versions of the tools that compile and load it; the built addon is kept in
 * the cache directory, outside the workspace, so a self-hosted runner builds it once.
 */
import { createHash } from "node:crypto";
import { access, copyFile, mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { execa } from "execa";

/** Where the engine loads the addon from, relative to the harness. */
export const ADDON_PATH = "build/Release/autoresearch.node";

/** The first or last line a tool prints for `--version`, or "none" when it is missing. */
async function version(command: string, line: "first" | "last"): Promise<string> {
  const run = await execa(command, ["--version"], { reject: false });
  if (run.exitCode !== 0) return "none";
  const lines = run.stdout.trim().split("\n");
  return (line === "first" ? lines[0] : lines.at(-1)) ?? "none";
}

/** The versions the addon's binary depends on: compilers, CUDA, Node's ABI, the platform. */
export async function toolchainVersions(): Promise<Record<string, string>> {
  const [cmake, cxx, nvcc] = await Promise.all([version("cmake", "first"), version("c++", "first"), version("nvcc", "last")]);
  return { cmake, cxx, nvcc, node_abi: process.versions.modules, napi: process.versions.napi ?? "none", platform: `${process.platform}-${process.arch}` };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

/**
 * `addon-<platform>-<hash>`: a hash of every file under `<harness>/native` (path and content),
 * the node-addon-api version in the lock file, and `toolchain`.
 */
export async function addonCacheKey(harnessDir: string, toolchain: Record<string, string>): Promise<string> {
  const hash = createHash("sha256");
  const nativeDir = join(harnessDir, "native");
  for (const file of await filesUnder(nativeDir)) hash.update(`${relative(nativeDir, file)}\0`).update(await readFile(file)).update("\0");
  const lock = JSON.parse(await readFile(join(harnessDir, "package-lock.json"), "utf8").catch(() => "{}"));
  hash.update(JSON.stringify({ nodeAddonApi: lock.packages?.["node_modules/node-addon-api"]?.version ?? null, toolchain }));
  return `addon-${toolchain.platform}-${hash.digest("hex").slice(0, 24)}`;
}

/** Copies `from` to `to` through a temporary file and a rename, so a process that has the old file loaded keeps it whole. */
async function installFile(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const temporary = `${to}.tmp-${process.pid}`;
  try {
    await copyFile(from, temporary);
    await rename(temporary, to);
  } finally {
    await rm(temporary, { force: true });
  }
}

/** What {@link ensureAddon} needs. */
export interface EnsureAddonOptions {
  harnessDir: string;
  cacheDir: string;
  /** Builds `<harness>/build/Release/autoresearch.node`; default `npm run build:native` in the harness. */
  build?: (harnessDir: string) => Promise<void>;
  toolchain?: Record<string, string>;
}

const npmBuild = async (harnessDir: string) => {
  await execa("npm", ["run", "build:native"], { cwd: harnessDir, stdout: "inherit", stderr: "inherit" });
};

/**
 * Puts the addon for this harness in place: from `<cacheDir>/addon/<key>.node` when it is
 * there (a hit), else built and then stored under the key.
 */
export async function ensureAddon(options: EnsureAddonOptions): Promise<{ key: string; hit: boolean }> {
  const { harnessDir, cacheDir, build = npmBuild } = options;
  const key = await addonCacheKey(harnessDir, options.toolchain ?? (await toolchainVersions()));
  const cached = join(cacheDir, "addon", `${key}.node`);
  const target = join(harnessDir, ADDON_PATH);
  const hit = await access(cached).then(() => true, () => false);
  if (hit) {
    await installFile(cached, target);
  } else {
    await build(harnessDir);
    await installFile(target, cached);
  }
  return { key, hit };
}
