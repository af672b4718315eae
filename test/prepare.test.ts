import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// prepare.ts reads its profile and paths from the environment when it is imported.
const cacheDir = mkdtempSync(join(tmpdir(), "autoresearch-prepare-"));
const env = { AUTORESEARCH_PROFILE: "test", AUTORESEARCH_CACHE_DIR: cacheDir };
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

async function importPrepare(vars: Record<string, string>) {
  vi.resetModules();
  for (const [key, value] of Object.entries(vars)) vi.stubEnv(key, value);
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    return { prepare: await import("../prepare.ts"), logged: log.mock.calls.map((call) => String(call[0])) };
  } finally {
    log.mockRestore();
    vi.unstubAllEnvs();
  }
}

describe("prepare.ts as a script", () => {
  beforeAll(async () => {
    await execa("npx", ["tsx", "prepare.ts", "--profile", "test", "--cache-dir", cacheDir]);
  });

  it("says what the profile overrides, and is idempotent", async () => {
    const { stdout } = await execa("npx", ["tsx", "prepare.ts", "--profile", "test", "--cache-dir", cacheDir]);
    expect(stdout.split("\n")[0]).toBe(
      "profile test: MAX_SEQ_LEN=64 (default 2048), TIME_BUDGET=5 (default 300), EVAL_TOKENS=4096 (default 20971520), VOCAB_SIZE=512 (default 8192), data=synthetic (default climbmix)",
    );
    expect(stdout).toContain("tokenizer: already trained");
  });

  it("fails clearly on an unknown option", async () => {
    const result = await execa("npx", ["tsx", "prepare.ts", "--profile", "test", "--cache-dir", cacheDir, "--shards", "3"], { reject: false });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("prepare: Unknown option '--shards'");
  });

  it("fails clearly on an unknown profile", async () => {
    const result = await execa("npx", ["tsx", "prepare.ts", "--profile", "huge"], { reject: false });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("Expected the profile to be one of `default`, `cpu`, `test`, got `huge`");
  });

  describe("as the library train.ts imports", () => {
    it("exports the active profile's constants and prints its overrides", async () => {
      const { prepare, logged } = await importPrepare(env);
      expect([prepare.PROFILE_NAME, prepare.MAX_SEQ_LEN, prepare.TIME_BUDGET, prepare.EVAL_TOKENS, prepare.VOCAB_SIZE]).toEqual([
        "test", 64, 5, 4096, 512,
      ]);
      expect(logged).toEqual([expect.stringMatching(/^profile test: MAX_SEQ_LEN=64/)]);
    });

    it("hands out the tokenizer, a training stream and a finite validation stream", async () => {
      const { prepare } = await importPrepare(env);
      const tokenizer = await prepare.loadTokenizer();
      expect(tokenizer.vocabSize).toBe(512);
      expect(await prepare.tokenBytes(tokenizer)).toBe(tokenizer.tokenBytes);
      const train = prepare.makeDataloader(tokenizer, 4, 64, "train");
      const { value } = await train.next();
      expect(value!.inputs).toHaveLength(256);
      expect(value!.inputs[0]).toBe(tokenizer.bosTokenId);
      let valBatches = 0;
      for await (const batch of prepare.makeDataloader(tokenizer, 4, 64, "val")) {
        expect(batch.epoch).toBe(1);
        valBatches++;
      }
      expect(valBatches).toBeGreaterThan(4096 / 256);
      await expect(prepare.makeDataloader(tokenizer, 4, 64, "test" as "val").next()).rejects.toThrow(
        'Expected `split` to be "train" or "val", got `test`',
      );
    });

    it("computes val_bpb at MAX_SEQ_LEN over EVAL_TOKENS: log2(V) x tokens / bytes for uniform logits", async () => {
      const { prepare } = await importPrepare(env);
      const tokenizer = await prepare.loadTokenizer();
      let tokens = 0;
      let bytes = 0;
      const uniform = (_inputs: Int32Array, targets: Int32Array, rows: number, cols: number) => {
        expect([rows, cols]).toEqual([8, 64]);
        for (const t of targets) {
          if (t >= tokenizer.mergeable.length) continue;
          tokens++;
          bytes += tokenizer.decodeBytes([t]).length;
        }
        return new Float64Array(targets.length).fill(Math.log(512));
      };
      const bpb = await prepare.evaluateLossBpb(uniform, 8, tokenizer);
      expect(tokens).toBeGreaterThan(4096 * 0.9);
      expect(bpb).toBeCloseTo((9 * tokens) / bytes, 10);
    });

    it("names the command to run when nothing is prepared", async () => {
      const empty = join(cacheDir, "nothing-here");
      const { prepare } = await importPrepare({ ...env, AUTORESEARCH_CACHE_DIR: empty });
      await expect(prepare.loadTokenizer()).rejects.toThrow(
        `Expected a tokenizer at \`${join(empty, "synthetic-seed2-2x100000", "test", "tokenizer.json")}\`, but there is none. Run \`npx tsx prepare.ts --profile test\` first.`,
      );
    });
  });
});
