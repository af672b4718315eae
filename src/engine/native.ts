/** Loads the native addon (built by `npm install` into build/Release) and types its functions. */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { skippingMeta } from "./meta.ts";

/** A storage id plus an element offset, as every native kernel takes its tensors. */
type Id = number;

/** The native addon's functions; argument order mirrors native/addon.cc. */
export interface NativeAddon {
  backendInfo(): { backend: "cpu" | "cuda"; device: string; threads: number; cuda: boolean; cudaCompiled: boolean };
  alloc(device: string, dtype: number, numel: number, arena: boolean): Id;
  free(id: Id): void;
  resetArena(): number;
  release(id: Id): void;
  memoryStats(device: string): { persistentBytes: number; arenaUsedBytes: number; arenaReservedBytes: number; peakBytes: number };
  resetPeak(device: string): void;
  synchronize(device: string): void;
  upload(id: Id, offset: number, data: ArrayBufferView): void;
  download(id: Id, offset: number, count: number): Float32Array | Uint16Array | Int32Array | Float64Array;
  fill(id: Id, offset: number, n: number, value: number): void;
  copy(src: Id, srcOff: number, srcStrides: number[], out: Id, outOff: number, outStrides: number[], shape: number[]): void;
  random(id: Id, offset: number, n: number, kind: number, seed: number, a: number, b: number): void;
  binary(op: number, a: Id, aOff: number, aStrides: number[], b: Id, bOff: number, bStrides: number[], out: Id, outOff: number, shape: number[]): void;
  unary(op: number, x: Id, xOff: number, out: Id, outOff: number, n: number, s: number): void;
  unaryBackward(op: number, x: Id, xOff: number, y: Id, yOff: number, g: Id, gOff: number, out: Id, outOff: number, n: number, s: number): void;
  reduce(op: number, x: Id, xOff: number, out: Id, outOff: number, outer: number, r: number, inner: number): void;
  productSum(x: Id, xOff: number, y: Id, yOff: number, out: Id, outOff: number, outer: number, r: number, inner: number): void;
  scaledAdd(x: Id, xOff: number, y: Id, yOff: number, a: Id, aOff: number, b: Id, bOff: number, out: Id, outOff: number, n: number): void;
  scaledAddBackward(g: Id, gOff: number, a: Id, aOff: number, b: Id, bOff: number, gx: Id, gxOff: number, gy: Id, gyOff: number, n: number): void;
  matmul(a: Id, aOff: number, b: Id, bOff: number, c: Id, cOff: number, batch: number, M: number, N: number, K: number,
    transA: boolean, transB: boolean, alpha: number, beta: number, strideA: number, strideB: number, strideC: number): void;
  embeddingForward(w: Id, wOff: number, idx: Id, idxOff: number, out: Id, outOff: number, n: number, vocab: number, dim: number): void;
  embeddingBackward(gw: Id, gwOff: number, idx: Id, idxOff: number, g: Id, gOff: number, n: number, vocab: number, dim: number): void;
  rmsNormForward(x: Id, xOff: number, out: Id, outOff: number, rstd: Id, rstdOff: number, rows: number, dim: number, eps: number): void;
  rmsNormBackward(y: Id, yOff: number, rstd: Id, rstdOff: number, g: Id, gOff: number, dx: Id, dxOff: number, rows: number, dim: number): void;
  rotary(x: Id, xOff: number, cos: Id, cosOff: number, sin: Id, sinOff: number, out: Id, outOff: number, B: number, T: number, H: number, D: number, sign: number): void;
  attentionForward(q: Id, qOff: number, k: Id, kOff: number, v: Id, vOff: number, out: Id, outOff: number, lse: Id, lseOff: number,
    B: number, T: number, H: number, D: number, window: number, scale: number): void;
  attentionBackward(...args: number[]): void;
  softmaxForward(x: Id, xOff: number, out: Id, outOff: number, rows: number, dim: number, log: boolean): void;
  softmaxBackward(y: Id, yOff: number, g: Id, gOff: number, dx: Id, dxOff: number, rows: number, dim: number, log: boolean): void;
  crossEntropyForward(...args: number[]): void;
  crossEntropyBackward(...args: number[]): void;
  adamw(p: Id, pOff: number, g: Id, gOff: number, m: Id, mOff: number, v: Id, vOff: number, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, bias1: number, bias2: number): void;
  muonMomentum(gradIds: Id[], gradOffsets: number[], buf: Id, bufOff: number, out: Id, outOff: number, n: number, momentum: number): void;
  norMuon(x: Id, xOff: number, sm: Id, smOff: number, scale: Id, scaleOff: number, k: number, rows: number, cols: number, beta2: number): void;
  muonUpdate(paramIds: Id[], paramOffsets: number[], x: Id, xOff: number, scale: Id, scaleOff: number, rows: number, cols: number,
    lr: number, weightDecay: number): void;
}

function load(): NativeAddon {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const file = process.env.AUTORESEARCH_ADDON ?? path.join(root, "build/Release/autoresearch.node");
  if (!existsSync(file)) {
    throw new Error(`The native addon is not built: expected \`${file}\`. Run \`npm install\` (or \`npm run build:native\`) in ${root}.`);
  }
  // Idle OpenMP workers sleep instead of spinning: a spinning pool on a busy machine (tests in
  // parallel, a data loader) turns every parallel region into a timeslice-long wait.
  process.env.OMP_WAIT_POLICY ??= "passive";
  return createRequire(import.meta.url)(file) as NativeAddon;
}

/** The loaded addon, shared by every engine module. */
export const native: NativeAddon = skippingMeta(load());
