import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { parseSummary } from "../src/data/run-report.ts";
import { replaceOnce, unfusedOptimizer } from "./helpers/train-optimizer.ts";
import { REPO, runTrain, trainVariant } from "./helpers/train-run.ts";

// A tiny corpus with real structure (a seeded grammar), written as txt shards; the last is validation.
function corpusDocs(seed: number, count: number): string[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const subjects = ["the cat", "a dog", "my friend", "the old man", "our teacher"];
  const verbs = ["sees", "likes", "finds", "follows", "helps"];
  const objects = ["the ball", "a bird", "the garden", "a small house", "the river"];
  // Made-up names give the tokenizer enough distinct words to learn its merges from.
  const syllables = ["ka", "lo", "mi", "ren", "tu", "sa", "vel", "on", "ri", "da", "xo", "pe"];
  const name = () => Array.from({ length: 2 + Math.floor(rnd() * 3) }, () => pick(syllables)).join("");
  return Array.from({ length: count }, () =>
    Array.from({ length: 3 + Math.floor(rnd() * 6) }, () => `${pick(subjects)} called ${name()} ${pick(verbs)} ${pick(objects)} ${Math.floor(rnd() * 100)} times.`).join(" "));
}

let env: Record<string, string>;
let unigramBpb: number;

beforeAll(async () => {
  const root = mkdtempSync(path.join(tmpdir(), "ar-train-test-"));
  const data = path.join(root, "data");
  mkdirSync(data);
  const separator = "\n<|endoftext|>\n";
  [1, 2, 3].forEach((seed, i) => writeFileSync(path.join(data, `shard_0000${i}.txt`), corpusDocs(seed, 400).join(separator)));
  env = { ...process.env, AUTORESEARCH_PROFILE: "test", AUTORESEARCH_DATA: data, AUTORESEARCH_CACHE_DIR: path.join(root, "cache") } as Record<string, string>;
  await execa(process.execPath, ["--import", "tsx", "prepare.ts"], { cwd: REPO, env });

  // The unigram baseline, computed here: train-token frequencies scored on the validation text.
  process.env.AUTORESEARCH_PROFILE = "test";
  Object.assign(process.env, env);
  const prepare = await import("../prepare.ts");
  const tok = await prepare.loadTokenizer();
  const counts = new Float64Array(tok.vocabSize).fill(1);
  for (const doc of corpusDocs(1, 400).concat(corpusDocs(2, 400))) for (const id of tok.encodeBatch([doc], tok.bosTokenId)[0]) counts[id]++;
  const total = counts.reduce((a, b) => a + b, 0);
  let bits = 0, bytes = 0;
  for (const doc of corpusDocs(3, 400)) {
    const ids = tok.encodeBatch([doc], tok.bosTokenId)[0];
    for (const id of ids.subarray(1)) {
      bits -= Math.log2(counts[id] / total);
      bytes += tok.tokenBytes[id];
    }
  }
  unigramBpb = bits / bytes;
}, 120_000);

describe("train.ts end to end on the CPU (test profile)", () => {
  it("trains, the loss falls, val_bpb beats the unigram baseline, and the summary parses", async () => {
    const run = await runTrain(trainVariant("test"), [], env);
    expect(run.exitCode, run.output.slice(-2000)).toBe(0);
    const summary = parseSummary(run.output);
    for (const key of ["val_bpb", "training_seconds", "total_seconds", "peak_vram_mb", "total_tokens_M", "num_steps", "num_params_M", "depth"]) {
      expect(summary[key], key).toBeTypeOf("number");
    }
    expect(summary.mfu_percent).toBeNull();
    expect(summary.depth).toBe(2);
    const json = JSON.parse(readFileSync(run.summaryPath, "utf8"));
    expect(json.val_bpb).toBeCloseTo(summary.val_bpb!, 6);
    const losses: number[] = json.loss_curve.map(([, l]: [number, number]) => l);
    expect(losses.length).toBeGreaterThan(15);
    const head = losses.slice(0, 3).reduce((a, b) => a + b) / 3, tail = losses.slice(-3).reduce((a, b) => a + b) / 3;
    expect(tail).toBeLessThan(head * 0.6);
    expect(summary.val_bpb!).toBeLessThan(unigramBpb);
  });

  it("runs the GPU's dtype flow (bf16 autocast, bf16 embeddings) on the CPU, and the loss falls", async () => {
    const source = trainVariant("test").replace('device === "cuda" ? "bf16" : "f32"', '"bf16"');
    expect(source).toContain('const compute_dtype: torch.DType = "bf16";');
    const run = await runTrain(source, [], env);
    expect(run.exitCode, run.output.slice(-2000)).toBe(0);
    const losses: number[] = JSON.parse(readFileSync(run.summaryPath, "utf8")).loss_curve.map(([, l]: [number, number]) => l);
    expect(losses.slice(-3).reduce((a, b) => a + b) / 3).toBeLessThan(losses[0] * 0.6);
  });

  it("gives the same losses for the first steps from the same seed", async () => {
    // No warmdown and no weight decay: the schedule then never reads the budget clock, whose
    // CPU seconds differ from run to run, so only the seed decides the losses.
    const source = trainVariant("test", { WARMDOWN_RATIO: "0.0", WEIGHT_DECAY: "0.0" });
    const [a, b] = await Promise.all([runTrain(source, [], env), runTrain(source, [], env)]);
    const first = (p: string) => JSON.parse(readFileSync(p, "utf8")).loss_curve.slice(0, 10);
    expect(first(a.summaryPath)).toEqual(first(b.summaryPath));
  });

  it("prints FAIL and exits 1 when the loss becomes NaN", async () => {
    const source = trainVariant("test").replace("train_loss += loss.item();", "train_loss += step === 3 ? NaN : loss.item();");
    expect(source).toContain("NaN");
    const run = await runTrain(source, [], env);
    expect(run.exitCode).toBe(1);
    expect(run.output).toMatch(/^FAIL$/m);
    expect(run.output).not.toContain("val_bpb:");
  });

  it("refuses an impossible batch configuration before any training", async () => {
    const run = await runTrain(trainVariant("test", { TOTAL_BATCH_SIZE: "1000" }), [], env);
    expect(run.exitCode).not.toBe(0);
    expect(run.output).toContain("TOTAL_BATCH_SIZE (1000) must be divisible by DEVICE_BATCH_SIZE * MAX_SEQ_LEN (16 * 64 = 1024)");
    expect(run.output).not.toMatch(/^step 0/m);
  });
});

describe("model size, counted from the model itself", () => {
  it("the reference depth-8 config has 50,332,176 parameters, counted on the meta device", async () => {
    const run = await runTrain(readFileSync(path.join(REPO, "train.ts"), "utf8"), ["--dry-run"], { ...env, AUTORESEARCH_PROFILE: "default" });
    expect(run.exitCode, run.output).toBe(0);
    const figures = JSON.parse(/dry_run: (.*)/.exec(run.output)![1]);
    expect(figures.num_params).toBe(50_332_176);
    expect(figures.num_params_M.toFixed(1)).toBe("50.3");
    expect(run.output).toContain('"wte":4194304,"value_embeds":16777216,"lm_head":4194304,"transformer_matrices":25166336,"scalars":16,"total":50332176');
    // 6 x (50,332,176 - 4,194,304 - 16,777,216 - 16) + attention over SSSL windows (1024 x 3 + 2048, twice).
    const attn = 2 * 12 * 4 * 128 * (1024 * 3 + 2048);
    expect(figures.flops_per_token).toBe(6 * (50_332_176 - 4_194_304 - 16_777_216 - 16) + attn);
  });
});

describe("copies of train.ts changed as the agent would change them run with no other edit", () => {
  /** The test profile's MLP 6x wide with a third layer (a hidden-to-hidden Linear) between its two. */
  function widerDeeperMlp(source: string): string {
    let out = replaceOnce(source, "  c_fc: nn.Linear;\n  c_proj: nn.Linear;\n", "  c_fc: nn.Linear;\n  c_mid: nn.Linear;\n  c_proj: nn.Linear;\n");
    out = replaceOnce(out, "this.c_fc = new nn.Linear(config.nEmbd, 4 * config.nEmbd, { device });",
      "this.c_fc = new nn.Linear(config.nEmbd, 6 * config.nEmbd, { device });\n    this.c_mid = new nn.Linear(6 * config.nEmbd, 6 * config.nEmbd, { device });");
    out = replaceOnce(out, "this.c_proj = new nn.Linear(4 * config.nEmbd, config.nEmbd, { device });", "this.c_proj = new nn.Linear(6 * config.nEmbd, config.nEmbd, { device });");
    return replaceOnce(out, "return this.c_proj.forward(F.reluSquare(this.c_fc.forward(x)));",
      "return this.c_proj.forward(F.reluSquare(this.c_mid.forward(F.reluSquare(this.c_fc.forward(x)))));");
  }

  it("a wider MLP with an extra layer: the dry run counts it and a CPU run trains it", async () => {
    const source = widerDeeperMlp(trainVariant("test"));
    // The test profile: d 64 (4 heads of 16), 2 layers, vocab 512, sequence 64; layer 1 has the value embedding.
    const d = 64, V = 512, blockMatrices = 2 * (4 * d * d + d * 6 * d + 6 * d * 6 * d + 6 * d * d) + 32 * 4;
    const total = V * d * 3 + blockMatrices + 2 * 2;
    const dry = await runTrain(source, ["--dry-run"], env);
    expect(dry.exitCode, dry.output).toBe(0);
    const figures = JSON.parse(/dry_run: (.*)/.exec(dry.output)![1]);
    expect(figures.num_params).toBe(total);
    expect(figures.flops_per_token).toBe(6 * blockMatrices + 6 * V * d + 12 * 4 * 16 * (32 + 64));

    const run = await runTrain(source, [], env);
    expect(run.exitCode, run.output.slice(-2000)).toBe(0);
    expect(parseSummary(run.output).num_params_M).toBeCloseTo(total / 1e6, 1);
    const losses: number[] = JSON.parse(readFileSync(run.summaryPath, "utf8")).loss_curve.map(([, l]: [number, number]) => l);
    expect(losses.slice(-3).reduce((a, b) => a + b) / 3).toBeLessThan(losses[0] * 0.6);
  });

  it("the optimizer written in plain ops (every fused primitive replaced) trains end to end", async () => {
    const run = await runTrain(unfusedOptimizer(trainVariant("test")), [], env);
    expect(run.exitCode, run.output.slice(-2000)).toBe(0);
    const losses: number[] = JSON.parse(readFileSync(run.summaryPath, "utf8")).loss_curve.map(([, l]: [number, number]) => l);
    expect(losses.slice(-3).reduce((a, b) => a + b) / 3).toBeLessThan(losses[0] * 0.6);
  });
});
