import { describe, expect, it } from "vitest";
import { describeOverrides, PROFILES, readFlag, selectProfile } from "../../src/data/profiles.ts";

describe("profiles", () => {
  it("has the reference constants in the default profile", () => {
    expect(PROFILES.default).toMatchObject({ MAX_SEQ_LEN: 2048, TIME_BUDGET: 300, EVAL_TOKENS: 20_971_520, VOCAB_SIZE: 8192 });
    expect(PROFILES.default.source).toEqual({ kind: "climbmix", trainShards: 10 });
  });

  it("keeps the small profiles' evaluation within their validation data", () => {
    for (const profile of [PROFILES.cpu, PROFILES.test]) {
      expect(profile.source.kind).toBe("synthetic");
      // About 4 bytes per token, and the validation shard is as big as a training shard.
      const source = profile.source as { shardBytes: number };
      expect(profile.EVAL_TOKENS * 4).toBeLessThan(source.shardBytes);
    }
  });

  it.each([
    [["--profile", "cpu"], {}, "cpu"],
    [["train.ts", "--profile=test", "--other", "x"], {}, "test"],
    [[], { AUTORESEARCH_PROFILE: "cpu" }, "cpu"],
    [["--profile", "test"], { AUTORESEARCH_PROFILE: "cpu" }, "test"],
    [[], {}, "default"],
  ])("selects from argv %j and env %j: %s", (argv, env, name) => {
    expect(selectProfile(argv, env).name).toBe(name);
  });

  it("lists the valid names for an unknown profile", () => {
    expect(() => selectProfile(["--profile", "gpu"], {})).toThrow("Expected the profile to be one of `default`, `cpu`, `test`, got `gpu`");
    expect(() => selectProfile([], { AUTORESEARCH_PROFILE: "toString" })).toThrow("got `toString`");
  });

  it("states every overridden constant, and nothing for the default", () => {
    expect(describeOverrides(PROFILES.default)).toBeUndefined();
    expect(describeOverrides(PROFILES.cpu)).toBe(
      "profile cpu: MAX_SEQ_LEN=256 (default 2048), TIME_BUDGET=60 (default 300), EVAL_TOKENS=65536 (default 20971520), VOCAB_SIZE=2048 (default 8192), data=synthetic (default climbmix)",
    );
  });

  it("reads one flag and ignores the rest", () => {
    expect(readFlag(["--num-shards", "3", "--profile", "cpu", "pos"], "num-shards")).toBe("3");
    expect(readFlag(["--verbose"], "profile")).toBeUndefined();
  });
});
