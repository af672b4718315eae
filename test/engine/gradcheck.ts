/** Central finite differences in float64 against the engine's backward(). */
import { expect } from "vitest";
import { Tensor, nn, noGrad, randn, tensor } from "../../src/engine/index.ts";

/**
 * Runs f as a module call on copies of its inputs made inside the call, so every tensor f's ops
 * see is released when the call returns unless an op's `keeps` declared that backward reads it.
 * An op that reads more than it declared fails its gradcheck.
 */
class KeepsOnlyWhatItDeclares extends nn.Module {
  constructor(readonly f: (...xs: Tensor[]) => Tensor) {
    super();
  }
  forward(...xs: Tensor[]): Tensor {
    return this.f(...xs.map((x) => x.mul(1)));
  }
}

/**
 * Checks d(sum(f(inputs) * w))/d(input) for every input, where w is a fixed random weight
 * (so every output element matters). Inputs must be f64 leaves.
 */
export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: { eps?: number; tol?: number } = {}): void {
  const eps = opts.eps ?? 1e-6, tol = opts.tol ?? 1e-6;
  for (const x of inputs) x.requiresGrad_(true);
  const out0 = new KeepsOnlyWhatItDeclares(f).forward(...inputs);
  const w = randn(out0.shape, { dtype: "f64" });
  const objective = (): number => noGrad(() => f(...inputs).mul(w).sum().item());
  out0.mul(w).sum().backward();
  for (const x of inputs) {
    const analytic = x.grad!.toArray();
    const base = Float64Array.from(x.toArray());
    for (let i = 0; i < base.length; i++) {
      const v = base[i];
      base[i] = v + eps;
      x.upload(base);
      const plus = objective();
      base[i] = v - eps;
      x.upload(base);
      const minus = objective();
      base[i] = v;
      x.upload(base);
      const numeric = (plus - minus) / (2 * eps);
      expect(Math.abs(analytic[i] - numeric), `d/dx[${i}] analytic ${analytic[i]} vs numeric ${numeric}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(numeric)));
    }
  }
}

/** A random f64 leaf tensor. */
export function rand64(shape: number[], scale = 1): Tensor {
  return randn(shape, { dtype: "f64" }).mul(scale).detach();
}

/** A tensor of given values, f64. */
export function t64(values: number[], shape: number[]): Tensor {
  return tensor(values, shape, { dtype: "f64" });
}
