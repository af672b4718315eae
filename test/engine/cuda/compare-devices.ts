/** Runs one computation on the CPU and on the GPU from identical inputs and measures how far apart they land. */
import { expect } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { native } from "../../../src/engine/native.ts";

/** True when the addon was built with CUDA and a GPU is present. */
export const hasCuda: boolean = native.backendInfo().cuda;

/** The same values on another device (bf16 round-trips exactly through f32). */
export function onDevice(t: E.Tensor, device: E.Device): E.Tensor {
  return E.Tensor.from(t.toArray(), t.shape, t.dtype, device);
}

/** max |a - b| / max(|b|), the error normalised by the reference's scale. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0, scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) {
      if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return Infinity;
      continue;
    }
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** Default tolerance: bf16 rounding, f32 and f64 summation order. */
export const TOLERANCE: Record<E.DType, number> = { bf16: 2e-2, f32: 1e-4, f64: 1e-10, i32: 0 };

interface Outcome {
  outputs: ArrayLike<number>[];
  grads: (ArrayLike<number> | undefined)[];  // undefined where no gradient flows (e.g. rotary tables)
}

/**
 * Evaluates `f` on copies of `inputs` on each device. With `grad`, the floating-point inputs
 * require grad and sum(f(...) * w) is backpropagated for a fixed random w of f's output shape.
 */
function run(device: E.Device, inputs: E.Tensor[], f: (...xs: E.Tensor[]) => E.Tensor | E.Tensor[], weights: E.Tensor[] | null): Outcome {
  const xs = inputs.map((t) => onDevice(t, device));
  if (weights) for (const x of xs) if (x.dtype !== "i32") x.requiresGrad_();
  const result = f(...xs);
  const outs = Array.isArray(result) ? result : [result];
  if (weights) {
    outs.map((o, i) => o.mul(onDevice(weights[i], device)).sum()).reduce((a, b) => a.add(b)).backward();
  }
  return {
    outputs: outs.map((o) => o.toArray()),
    grads: weights ? xs.filter((x) => x.dtype !== "i32").map((x) => x.grad?.toArray()) : [],
  };
}

/**
 * Expects `f` to give the same outputs (and, with `grad`, the same input gradients) on "cuda"
 * as on "cpu", within `tol` relative to the CPU's largest magnitude.
 */
export function expectSameOnDevices(
  inputs: E.Tensor[],
  f: (...xs: E.Tensor[]) => E.Tensor | E.Tensor[],
  opts: { tol?: number; grad?: boolean } = {},
): void {
  const probe = f(...inputs);
  const outs = Array.isArray(probe) ? probe : [probe];
  // The coarsest dtype involved sets the tolerance: a bf16 input's gradient is bf16 too.
  const tol = opts.tol ?? Math.max(...[...outs, ...inputs].map((t) => TOLERANCE[t.dtype]));
  const weights = opts.grad ? outs.map((o) => E.randn(o.shape, { dtype: o.dtype })) : null;
  const cpu = run("cpu", inputs, f, weights);
  const gpu = run("cuda", inputs, f, weights);
  cpu.outputs.forEach((ref, i) => expect(relativeError(gpu.outputs[i], ref), `output ${i}`).toBeLessThanOrEqual(tol));
  cpu.grads.forEach((ref, i) => {
    expect(gpu.grads[i] === undefined, `gradient of input ${i} exists on one device only`).toBe(ref === undefined);
    if (ref) expect(relativeError(gpu.grads[i]!, ref), `gradient of input ${i}`).toBeLessThanOrEqual(tol);
  });
}
