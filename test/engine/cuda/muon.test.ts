// Muon's fused kernels on "cuda" against the CPU reference (skipped without a GPU).
import { afterEach, describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { hasCuda, onDevice, relativeError } from "./compare-devices.ts";

/** ||a - b||_F / ||b||_F. */
function frobeniusError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0, norm = 0;
  for (let i = 0; i < b.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return Math.sqrt(diff / norm);
}

describe.skipIf(!hasCuda)("Muon's fused kernels on the GPU", () => {
  afterEach(() => E.resetArena());

  // Three steps of a (k, rows, cols) group; returns the parameters before and after.
  function steps(device: E.Device, k: number, rows: number, cols: number, polarExpressDtype: E.DType): [Float64Array, Float64Array] {
    E.manualSeed(38);
    const init = E.randn([k, rows, cols]), grads = [0, 1, 2].map(() => E.randn([k, rows, cols]));
    const stack = E.persistent(() => onDevice(init, device));
    const params = Array.from({ length: k }, (_, i) => stack.slice(0, i, i + 1).reshape(rows, cols).requiresGrad_());
    const opt = new E.Muon([{ params, lr: 0.04, momentum: 0.95, weightDecay: 0.2, polarExpressDtype }]);
    for (const G of grads) {
      const g = onDevice(G, device);
      params.forEach((p, i) => (p.grad = g.slice(0, i, i + 1).reshape(rows, cols)));
      opt.step();
    }
    return [Float64Array.from(init.toArray()), Float64Array.from(stack.toArray())];
  }

  // Row- and column-wise NorMuon, and more matrices than one launch's pointer batch (32).
  const SHAPES = [[3, 32, 96], [3, 96, 32], [2, 48, 48], [40, 8, 12]];

  it.each(SHAPES)("k=%i %ix%i: three steps with Polar Express in f32 as on the CPU", (k, rows, cols) => {
    expect(relativeError(steps("cuda", k, rows, cols, "f32")[1], steps("cpu", k, rows, cols, "f32")[1])).toBeLessThanOrEqual(1e-4);
  });

  // bf16 Polar Express moves three steps' update 6-8% (Frobenius) from an f32 one; on the CPU, runs
  // whose gradients differ by 1e-7 (like another summation order) land 0-4% apart.
  it.each([...SHAPES, [2, 128, 512]])("k=%i %ix%i: three steps in bf16 (the default) update as on the CPU", (k, rows, cols) => {
    const update = ([before, after]: [Float64Array, Float64Array]) => after.map((v, i) => v - before[i]);
    expect(frobeniusError(update(steps("cuda", k, rows, cols, "bf16")), update(steps("cpu", k, rows, cols, "bf16")))).toBeLessThanOrEqual(5e-2);
  });
});
