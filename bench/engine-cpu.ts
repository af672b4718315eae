/**
 * CPU engine benchmark: GEMM GFLOP/s at 1024^2 and 2048^2 next to OpenBLAS sgemm measured in the
 * same run (Debian's libopenblas-dev, used only here), and the tiny GPT's training tokens/s.
 * Run: npm run bench
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as E from "../src/engine/index.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

function engineGemm(n: number, reps: number): number {
  const a = E.randn([n, n], { persistent: true }), b = E.randn([n, n], { persistent: true });
  E.matmul(a, b);
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    E.matmul(a, b);
    best = Math.min(best, (performance.now() - t0) / 1000);
    E.resetArena();
  }
  a.storage.free();
  b.storage.free();
  return (2 * n ** 3) / best / 1e9;
}

function openblasGemm(n: number, reps: number): number | null {
  if (!existsSync("/usr/include/x86_64-linux-gnu/cblas.h") && !existsSync("/usr/include/cblas.h")) return null;
  const exe = path.join(mkdtempSync(path.join(tmpdir(), "ar-bench-")), "sgemm");
  execFileSync("cc", ["-O2", path.join(here, "openblas-sgemm.c"), "-o", exe, "-lopenblas"]);
  const out = execFileSync(exe, [String(n), String(reps)], { encoding: "utf8" });
  return Number(out.trim().split(" ")[1]);
}

/** Training tokens/s of a small GPT-shaped stack of the engine's ops (2 layers, d=128, T=128). */
function tinyGptTokensPerSecond(steps: number): number {
  E.manualSeed(0);
  const [V, D, H, L, B, T] = [512, 128, 2, 2, 8, 128];
  const p = (r: number, c: number, std: number) => E.normal_(E.nn.Parameter([r, c]), 0, std);
  const wte = p(V, D, 1), head = p(V, D, 0.001);
  const layers = Array.from({ length: L }, () => ({ qkv: p(3 * D, D, 0.05), proj: p(D, D, 0.05), fc: p(4 * D, D, 0.05), out: p(D, 4 * D, 0.05) }));
  const params = [wte, head, ...layers.flatMap((l) => [l.qkv, l.proj, l.fc, l.out])];
  const opt = new E.AdamW([{ params, lr: 1e-3, betas: [0.8, 0.95], eps: 1e-10, weightDecay: 0 }]);
  const tokens = Array.from({ length: B * (T + 1) }, (_, i) => (i * 7919) % V);
  let t0 = 0;
  for (let s = 0; s <= steps; s++) {
    if (s === 1) t0 = performance.now();
    const idx = E.tensor(tokens.slice(0, B * T), [B, T], { dtype: "i32" });
    const tgt = E.tensor(tokens.slice(1, B * T + 1), [B, T], { dtype: "i32" });
    let x = E.F.rmsNorm(E.F.embedding(idx, wte));
    for (const l of layers) {
      const qkv = E.F.linear(E.F.rmsNorm(x), l.qkv).reshape(B, T, 3, H, D / H);
      const [q, k, v] = [0, 1, 2].map((i) => qkv.slice(2, i, i + 1).reshape(B, T, H, D / H));
      x = x.add(E.F.linear(E.F.attention(q, k, v).reshape(B, T, D), l.proj));
      x = x.add(E.F.linear(E.F.reluSquare(E.F.linear(E.F.rmsNorm(x), l.fc)), l.out));
    }
    const loss = E.F.crossEntropy(E.F.linear(E.F.rmsNorm(x), head), tgt, { softcap: 15 });
    loss.backward();
    opt.step();
    opt.zeroGrad();
    loss.item();
    E.resetArena();
  }
  return (steps * B * T) / ((performance.now() - t0) / 1000);
}

const rows: { n: number; engine: number; openblas: number | null }[] = [];
for (const n of [1024, 2048]) rows.push({ n, engine: engineGemm(n, n === 1024 ? 8 : 3), openblas: openblasGemm(n, n === 1024 ? 8 : 3) });
const tokensPerSecond = tinyGptTokensPerSecond(5);

console.log(`CPU: ${E.backend().device}, ${E.backend().threads} threads`);
console.log("GEMM (f32, square)   engine GFLOP/s   OpenBLAS GFLOP/s   ratio");
for (const r of rows) {
  const ratio = r.openblas ? (r.engine / r.openblas).toFixed(2) : "n/a";
  console.log(`  ${String(r.n).padEnd(19)}${r.engine.toFixed(1).padStart(14)}${(r.openblas?.toFixed(1) ?? "n/a").padStart(19)}${ratio.padStart(8)}`);
}
if (rows.some((r) => r.openblas === null)) console.log("  (OpenBLAS not found: apt-get install libopenblas-dev to measure the anchor)");
console.log(`tiny GPT training: ${tokensPerSecond.toFixed(0)} tokens/s (2 layers, d=128, T=128, B=8)`);
const ratio = (n: number) => {
  const r = rows.find((x) => x.n === n)!;
  return r.openblas ? Number((r.engine / r.openblas).toFixed(3)) : null;
};
console.log(JSON.stringify({
  bench: "engine-cpu",
  gemm1024_gflops: Number(rows[0].engine.toFixed(1)), openblas1024_gflops: rows[0].openblas,
  gemm2048_gflops: Number(rows[1].engine.toFixed(1)), openblas2048_gflops: rows[1].openblas,
  ratio_vs_openblas_1024: ratio(1024), ratio_vs_openblas_2048: ratio(2048),
  tiny_gpt_tokens_per_s: Math.round(tokensPerSecond),
}));
