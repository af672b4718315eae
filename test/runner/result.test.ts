import { describe, expect, it } from "vitest";
import { parseResult, seedFromCommitMessage, type Result } from "../../src/runner/result.ts";

// The reference's H100 baseline summary, as the runner would write it.
const ok: Result = {
  version: 1,
  status: "ok",
  val_bpb: 0.9979,
  reported_val_bpb: 0.998,
  training_seconds: 300.1,
  total_seconds: 325.9,
  peak_vram_mb: 45060.2,
  mfu_percent: 39.8,
  total_tokens_M: 499.6,
  num_steps: 953,
  num_params_M: 50.3,
  depth: 8,
  profile: "h100",
  seed: 42,
  base_sha: "a".repeat(40),
  head_sha: "b".repeat(40),
  crash_excerpt: null,
  reason: null,
  loss_curve: [
    [0, 9.01],
    [100, 4.2],
  ],
};

describe("parseResult", () => {
  it("accepts a valid result as an object or as JSON text", () => {
    expect(parseResult(ok)).toEqual(ok);
    expect(parseResult(JSON.stringify(ok))).toEqual(ok);
    const crash = { ...ok, status: "crash", val_bpb: null, mfu_percent: null, depth: null, crash_excerpt: "CUDA OOM" };
    expect(parseResult(crash)).toEqual(crash);
    // warnings: written by every runner since the sandbox, absent from older results.
    expect(parseResult({ ...ok, warnings: ["trained without the sandbox"] }).warnings).toEqual(["trained without the sandbox"]);
  });

  it.each([
    [{ version: 2 }, "Expected `version` to be `1`, got `2`"],
    [{ status: "great" }, 'Expected `status` to be `"ok"`, `"crash"`, `"timeout"`, `"rejected"`, got `"great"`'],
    [{ val_bpb: "0.99" }, 'Expected `val_bpb` to be a positive number or null, got `"0.99"`'],
    [{ val_bpb: -1 }, "Expected `val_bpb` to be a positive number or null, got `-1`"],
    [{ num_steps: 1.5 }, "Expected `num_steps` to be an integer >= 0, got `1.5`"],
    [{ peak_vram_mb: undefined }, "Expected `peak_vram_mb` to be a number >= 0, got `undefined`"],
    [{ loss_curve: [[0, "x"]] }, 'Expected `loss_curve` to be an array of [step, loss] pairs, got `[[0,"x"]]`'],
    [{ valbpb: 1 }, "Expected result.json to have only the version 1 keys, got `valbpb`"],
    [{ val_bpb: null }, 'Expected `val_bpb` to be a number when `status` is `"ok"`, got `null`'],
    [{ status: "crash" }, 'Expected `val_bpb` to be null when `status` is `"crash"`, got `0.9979`'],
    [{ status: "rejected", val_bpb: null }, "Expected `reason` to say why the run was rejected, got `null`"],
    [{ warnings: "unsandboxed" }, 'Expected `warnings` to be an array of strings, got `"unsandboxed"`'],
  ])("refuses %j", (patch, message) => {
    expect(() => parseResult({ ...ok, ...patch })).toThrow(message);
  });

  it("refuses what is not a JSON object", () => {
    expect(() => parseResult("{")).toThrow(/^Expected result.json to be JSON, got `"\{"`/);
    expect(() => parseResult([1])).toThrow("Expected result.json to be an object, got `[1]`");
  });
});

describe("seedFromCommitMessage", () => {
  it("reads the trailer and falls back to the reference seed", () => {
    expect(seedFromCommitMessage("Re-run\n\nAutoresearch-Seed: 43\n")).toBe(43);
    expect(seedFromCommitMessage("Try depth 10\n\nbody\n\nautoresearch-seed:7")).toBe(7);
    expect(seedFromCommitMessage("Try depth 10")).toBe(42);
  });
});
