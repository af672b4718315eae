/**
 * Per-op GPU microbenchmarks of our kernels at the model's shapes (op-shapes.json): bf16 GEMMs
 * through cuBLASLt and flash attention forward + backward. bench/torch/ops_bench.py times the
 * same shapes in PyTorch; compare.ts puts the two side by side.
 *
 *   npx tsx bench/gpu/ops-bench.ts [--scale S]   (S < 1 shrinks the token dims, e.g. for a CPU smoke run)
 */
import { parseArgs } from "node:util";
import { native } from "../../src/engine/native.ts";
import shapeFile from "./op-shapes.json" with { type: "json" };

interface Gemm { name: string; M: number; N: number; K: number; transA: boolean; transB: boolean; batch?: number }
interface Attention { name: string; B: number; T: number; H: number; D: number; window: number }

const shapes = shapeFile as { gemm: Gemm[]; attention: Attention[] };
const { values } = parseArgs({ options: { scale: { type: "string", default: "1" } }, strict: false });
const scale = Number(values.scale);
const device = native.backendInfo().cuda ? "cuda" : "cpu";
const BF16 = 1, F32 = 0;

/** Mean seconds per call of `f` after warm-up, timed around a synchronised batch of calls. */
function timeIt(f: () => void, iterations: number): number {
  for (let i = 0; i < 2; i++) f();
  native.synchronize(device);
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) f();
  native.synchronize(device);
  return (performance.now() - t0) / 1000 / iterations;
}

function buffer(dtype: number, numel: number): number {
  const id = native.alloc(device, dtype, numel, false);
  native.random(id, 0, numel, 0, 1234 + id, 0, 1);
  return id;
}

const shrink = (n: number, big: number) => (n >= big ? Math.max(64, Math.round(n * scale)) : n);
const rows: { op: string; tflops: number; ms: number }[] = [];

for (const g of shapes.gemm) {
  const [M, N, K, batch] = [shrink(g.M, 8192), g.N, shrink(g.K, 8192), g.batch ?? 1];
  const a = buffer(BF16, batch * M * K), b = buffer(BF16, batch * K * N), c = buffer(BF16, batch * M * N);
  const s = timeIt(() => native.matmul(a, 0, b, 0, c, 0, batch, M, N, K, g.transA, g.transB, 1, 0, M * K, K * N, M * N), 10);
  rows.push({ op: `gemm ${g.name}`, tflops: (2 * batch * M * N * K) / s / 1e12, ms: s * 1000 });
  for (const id of [a, b, c]) native.free(id);
}

for (const t of shapes.attention) {
  const B = shrink(t.B * 64, 8192) / 64, { T, H, D } = t;
  const n = B * T * H * D;
  const [q, k, v, out, dout, dq, dk, dv] = Array.from({ length: 8 }, () => buffer(BF16, n));
  const lse = buffer(F32, B * H * T);
  const scaleQK = 1 / Math.sqrt(D);
  const s = timeIt(() => {
    native.attentionForward(q, 0, k, 0, v, 0, out, 0, lse, 0, B, T, H, D, t.window, scaleQK);
    native.attentionBackward(q, 0, k, 0, v, 0, out, 0, lse, 0, dout, 0, dq, 0, dk, 0, dv, 0, B, T, H, D, t.window, scaleQK);
  }, 5);
  // FLOPs of the visible score entries: forward 4 B H D per entry, backward 2.5x that.
  const visible = Array.from({ length: T }, (_, i) => Math.min(i, t.window) + 1).reduce((x, y) => x + y, 0);
  rows.push({ op: `attention ${t.name}`, tflops: (3.5 * 4 * B * H * D * visible) / s / 1e12, ms: s * 1000 });
  for (const id of [q, k, v, out, dout, dq, dk, dv, lse]) native.free(id);
}

console.log(`autoresearch kernels on ${native.backendInfo().device} (scale ${scale})`);
console.log(`${"op".padEnd(34)}${"ms".padStart(10)}${"TFLOP/s".padStart(10)}`);
for (const r of rows) console.log(`${r.op.padEnd(34)}${r.ms.toFixed(3).padStart(10)}${r.tflops.toFixed(1).padStart(10)}`);
console.log(JSON.stringify({ bench: "gpu-ops", impl: "autoresearch", device: native.backendInfo().device, scale,
  ops: Object.fromEntries(rows.map((r) => [r.op, { ms: r.ms, tflops: r.tflops }])) }));
