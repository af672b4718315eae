import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { PROFILES } from "../../src/data/profiles.ts";
import { resolveDataLayout } from "../../src/data/resolve-data-layout.ts";

const env = { AUTORESEARCH_CACHE_DIR: "/cache" };

describe("resolveDataLayout", () => {
  it("downloads climbmix into its own cache folder for the default profile", () => {
    expect(resolveDataLayout(PROFILES.default, [], env)).toEqual({
      source: { kind: "climbmix", baseUrl: "https://huggingface.co/datasets/karpathy/climbmix-400b-shuffle/resolve/main", trainShards: 10 },
      cacheDir: "/cache",
      shardDir: "/cache/climbmix-400b-shuffle/shards",
      tokenizerDir: "/cache/climbmix-400b-shuffle/default",
      prepareCommand: "npx tsx prepare.ts",
    });
  });

  it("generates the synthetic corpus for the cpu profile, in a folder named after its spec", () => {
    const layout = resolveDataLayout(PROFILES.cpu, [], env);
    expect(layout.source.kind).toBe("synthetic");
    expect(layout.shardDir).toBe("/cache/synthetic-seed1-6x1000000/shards");
    expect(layout.tokenizerDir).toBe("/cache/synthetic-seed1-6x1000000/cpu");
    expect(layout.prepareCommand).toBe("npx tsx prepare.ts --profile cpu");
  });

  it("reads a local directory in place and keeps its tokenizer apart from other directories", () => {
    const a = resolveDataLayout(PROFILES.cpu, ["--source", "data/books"], env);
    const b = resolveDataLayout(PROFILES.cpu, [], { ...env, AUTORESEARCH_DATA: "/elsewhere/books" });
    expect(a.source).toEqual({ kind: "local", dir: resolve("data/books") });
    expect(a.shardDir).toBe(resolve("data/books"));
    expect(a.tokenizerDir).toMatch(/^\/cache\/local-books-[0-9a-f]{8}\/cpu$/);
    expect(b.tokenizerDir).toMatch(/^\/cache\/local-books-[0-9a-f]{8}\/cpu$/);
    expect(a.tokenizerDir).not.toBe(b.tokenizerDir);
    expect(a.prepareCommand).toBe(`npx tsx prepare.ts --profile cpu --source ${resolve("data/books")}`);
  });

  it("lets flags win over the environment", () => {
    const layout = resolveDataLayout(PROFILES.default, ["--source", "/flag", "--cache-dir", "/c2"], { ...env, AUTORESEARCH_DATA: "/env" });
    expect(layout.shardDir).toBe("/flag");
    expect(layout.cacheDir).toBe("/c2");
  });

  it("takes a URL as a climbmix mirror, and --num-shards for the download", () => {
    const layout = resolveDataLayout(PROFILES.default, ["--source", "http://mirror.local/climbmix/", "--num-shards", "3"], env);
    expect(layout.source).toEqual({ kind: "climbmix", baseUrl: "http://mirror.local/climbmix", trainShards: 3 });
    expect(layout.prepareCommand).toBe("npx tsx prepare.ts --source http://mirror.local/climbmix");
  });

  it("defaults the cache to ~/.cache/autoresearch", () => {
    expect(resolveDataLayout(PROFILES.default, [], { HOME: "/home/u" }).cacheDir).toMatch(/\.cache\/autoresearch$/);
    expect(resolveDataLayout(PROFILES.default, ["--cache-dir", "rel"], {}).cacheDir).toBe(join(process.cwd(), "rel"));
  });

  it("rejects --num-shards out of range or without a download", () => {
    expect(() => resolveDataLayout(PROFILES.default, ["--num-shards", "0"], env)).toThrow(
      "Expected `--num-shards` to be an integer from 1 to 6542, got `0`",
    );
    expect(() => resolveDataLayout(PROFILES.default, ["--num-shards", "2.5"], env)).toThrow("got `2.5`");
    expect(() => resolveDataLayout(PROFILES.cpu, ["--num-shards", "2"], env)).toThrow(
      "Expected `--num-shards` only with the climbmix download, got it with a synthetic source",
    );
  });
});
