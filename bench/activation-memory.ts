/**
 * Training memory of train.ts at depth 8 with the GPU's dtypes (bf16 autocast, bf16 embeddings),
 * measured on the CPU: the engine's peak of live bytes for a step at DEVICE_BATCH_SIZE 1 and 2,
 * their difference as the memory of one 2048-token sequence, and the projection to the
 * reference's DEVICE_BATCH_SIZE 128 next to PyTorch's peak for that run (45060.2 MiB, the
 * reference's H100 baseline in shared/REFERENCE.md; PyTorch does not run here). On a GPU,
 * bench/gpu/run.sh measures both sides directly.
 *
 *   npm run bench:memory        (about two minutes: five depth-8 steps per batch size)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeTokenFile } from "./gpu/token-file.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TORCH_PEAK_MIB = 45060.2;
const SEQ = 2048, VOCAB = 8192, REFERENCE_BATCH = 128, STEPS = 5;

const dir = mkdtempSync(path.join(tmpdir(), "ar-memory-"));
// Random tokens: memory does not depend on what they are.
const rows = (n: number) => Uint16Array.from({ length: n * (SEQ + 1) }, (_, i) => (i * 7919 + 13) % VOCAB);
const tokens = path.join(dir, "tokens.bin");
writeTokenFile(tokens, { vocab: VOCAB, seqLen: SEQ, tokenBytes: new Int32Array(VOCAB).fill(1), train: rows(8), val: rows(1) });

/** peak_vram_mb of STEPS steps of train.ts at `batch` sequences per step. */
function peakMib(batch: number): number {
  const out = path.join(dir, `b${batch}`);
  execFileSync("npx", ["tsx", "bench/gpu/bundle.ts", out, "--set", `DEVICE_BATCH_SIZE=${batch}`, "--set", `TOTAL_BATCH_SIZE=${batch * SEQ}`,
    "--set", "DEPTH=8", "--set", 'compute_dtype="bf16"'], { cwd: root, stdio: "ignore" });
  const log = execFileSync(process.execPath, [path.join(out, "train-L.mjs")], {
    cwd: root, encoding: "utf8", env: {
      AUTORESEARCH_ADDON: path.join(root, "build/Release/autoresearch.node"), ...process.env, AR_TOKENS: tokens, AR_BENCH_STEPS: String(STEPS),
    }, maxBuffer: 1 << 26,
  });
  return JSON.parse(log.trim().split("\n").at(-1)!).peak_vram_mb;
}

const one = peakMib(1), two = peakMib(2);
const perSequence = two - one, fixed = one - perSequence;
const projected = fixed + REFERENCE_BATCH * perSequence;
console.log("train.ts, depth 8, bf16 flow, on the CPU      peak MiB");
console.log(`  DEVICE_BATCH_SIZE 1                       ${one.toFixed(1).padStart(9)}`);
console.log(`  DEVICE_BATCH_SIZE 2                       ${two.toFixed(1).padStart(9)}`);
console.log(`  one 2048-token sequence                   ${perSequence.toFixed(1).padStart(9)}`);
console.log(`  projected at DEVICE_BATCH_SIZE 128        ${projected.toFixed(0).padStart(9)}`);
console.log(`  PyTorch at 128 (H100 reference run)       ${TORCH_PEAK_MIB.toFixed(0).padStart(9)}   ratio ${(projected / TORCH_PEAK_MIB).toFixed(2)}`);
console.log(JSON.stringify({
  bench: "activation-memory", peak_mib_batch1: one, peak_mib_batch2: two, per_sequence_mib: perSequence,
  projected_mib_batch128: projected, torch_peak_mib_batch128: TORCH_PEAK_MIB, ratio_vs_torch: projected / TORCH_PEAK_MIB,
}));
