import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ADDON_PATH, addonCacheKey, ensureAddon } from "../../action/src/addon-cache.ts";

const TOOLCHAIN = { cmake: "cmake version 3.31.6", cxx: "c++ (Debian 14.2.0) 14.2.0", nvcc: "none", node_abi: "115", napi: "9", platform: "linux-x64" };

/** A harness with a small native/ tree and a lock file. */
function harness(files: Record<string, string> = { "CMakeLists.txt": "project(x)", "cpu/add.cc": "int add();" }): string {
  const dir = mkdtempSync(join(tmpdir(), "ar-addon-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, "native", path, ".."), { recursive: true });
    writeFileSync(join(dir, "native", path), content);
  }
  writeFileSync(join(dir, "package-lock.json"), JSON.stringify({ packages: { "node_modules/node-addon-api": { version: "8.5.0" } } }));
  return dir;
}

describe("addonCacheKey", () => {
  it("is stable for the same sources and toolchain, and changes with either", async () => {
    const key = await addonCacheKey(harness(), TOOLCHAIN);
    expect(key).toMatch(/^addon-linux-x64-[0-9a-f]{24}$/);
    expect(await addonCacheKey(harness(), TOOLCHAIN)).toBe(key);
    expect(await addonCacheKey(harness({ "CMakeLists.txt": "project(x)", "cpu/add.cc": "int add(int);" }), TOOLCHAIN)).not.toBe(key);
    expect(await addonCacheKey(harness({ "CMakeLists.txt": "project(x)", "cuda/add.cc": "int add();" }), TOOLCHAIN)).not.toBe(key);
    expect(await addonCacheKey(harness(), { ...TOOLCHAIN, nvcc: "Cuda compilation tools, release 12.8, V12.8.93" })).not.toBe(key);
    expect(await addonCacheKey(harness(), { ...TOOLCHAIN, node_abi: "127" })).not.toBe(key);
  });
});

describe("ensureAddon", () => {
  it("builds and caches on a miss, then installs from the cache without building", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "ar-addon-cache-"));
    const builds: string[] = [];
    const build = async (dir: string) => {
      builds.push(dir);
      mkdirSync(join(dir, "build/Release"), { recursive: true });
      writeFileSync(join(dir, ADDON_PATH), `binary for ${dir}`);
    };
    const first = harness();
    const miss = await ensureAddon({ harnessDir: first, cacheDir, build, toolchain: TOOLCHAIN });
    expect(miss.hit).toBe(false);
    expect(readFileSync(join(cacheDir, "addon", `${miss.key}.node`), "utf8")).toBe(`binary for ${first}`);

    const second = harness();
    const hit = await ensureAddon({ harnessDir: second, cacheDir, build, toolchain: TOOLCHAIN });
    expect(hit).toEqual({ key: miss.key, hit: true });
    expect(builds).toEqual([first]);
    expect(readFileSync(join(second, ADDON_PATH), "utf8")).toBe(`binary for ${first}`);
  });
});
