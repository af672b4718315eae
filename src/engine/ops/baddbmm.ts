/** beta * input + alpha * (a @ b) as one GEMM whose epilogue adds the input, like torch.baddbmm. */
import { apply, opError } from "../dispatch.ts";
import { defineOp } from "../op-registry.ts";
import { broadcastShapes, formatShape, sameShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { matmul, matmulInto } from "./matmul.ts";
import { sumToShape } from "./reduce.ts";
import { copyInto } from "./view.ts";

interface Scales {
  alpha: number;
  beta: number;
}

const baddbmmOp = defineOp<Scales>({
  name: "baddbmm",
  forward: ([input, a, b], { alpha, beta }) => {
    const out = Tensor.empty([...a.shape.slice(0, -1), b.shape[b.ndim - 1]], a.dtype, a.device);
    if (beta !== 0) copyInto(out, input); // beta 0 never reads the input, as in PyTorch
    return { outputs: [matmulInto(out, a, b, alpha, beta)] };
  },
  backward: ({ inputs: [input, a, b], attrs: { alpha, beta } }, [g]) => [
    input.requiresGrad ? sumToShape(g!.mul(beta), input.shape) : null,
    a.requiresGrad ? matmul(g!, b.transpose(-2, -1)).mul(alpha) : null,
    b.requiresGrad ? matmul(a.transpose(-2, -1), g!).mul(alpha) : null,
  ],
  keeps: ({ inputs: [, a, b] }) => [b.requiresGrad ? a : null, a.requiresGrad ? b : null],
});

/**
 * beta * input + alpha * (a @ b) for a: (..., M, K) and b: (..., K, N) with the same batch dims,
 * and input broadcastable to (..., M, N); all of one floating-point dtype. One GEMM: the scaled
 * input is added in the GEMM's epilogue, so it costs no elementwise pass of its own. Polar
 * Express is written with it: `torch.baddbmm(X, X, B, { beta: a })` is a * X + X @ B.
 */
export function baddbmm(input: Tensor, a: Tensor, b: Tensor, { alpha = 1, beta = 1 }: Partial<Scales> = {}): Tensor {
  const inputs = [input, a, b];
  const bad = (msg: string) => opError("baddbmm", msg, inputs);
  if (a.ndim < 2 || b.ndim !== a.ndim) throw bad("expected a (..., M, K) and b (..., K, N) with the same number of dims");
  if (a.shape[a.ndim - 1] !== b.shape[b.ndim - 2]) throw bad(`inner dims differ: ${formatShape(a.shape)} @ ${formatShape(b.shape)}`);
  if (!sameShape(a.shape.slice(0, -2), b.shape.slice(0, -2))) throw bad("a and b must have the same batch dims");
  if (new Set(inputs.map((t) => t.dtype)).size !== 1 || a.dtype === "i32") throw bad("expected one floating-point dtype");
  const outShape = [...a.shape.slice(0, -1), b.shape[b.ndim - 1]];
  const joined = broadcastShapes(input.shape, outShape);
  if (!joined || !sameShape(joined, outShape)) throw bad(`input ${formatShape(input.shape)} does not broadcast to ${formatShape(outShape)}`);
  for (const [name, v] of Object.entries({ alpha, beta })) if (!Number.isFinite(v)) throw new RangeError(`baddbmm: expected a finite \`${name}\`, got ${v}`);
  return apply(baddbmmOp, inputs, { alpha, beta })[0];
}
