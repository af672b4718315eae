/** Reductions: sum, mean and norm over dims, and sumToShape for broadcast gradients. */
import { promote } from "../autocast.ts";
import { apply, opError } from "../dispatch.ts";
import { defineOp } from "../op-registry.ts";
import { native } from "../native.ts";
import { ReduceOp } from "../native-kernels.ts";
import { normalizeDim, numelOf, sameShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";

/** Sums a contiguous tensor over one dim, keeping it as size 1. */
function sumDim(x: Tensor, d: number): Tensor {
  const shape = [...x.shape];
  const outer = numelOf(shape.slice(0, d)), r = shape[d], inner = numelOf(shape.slice(d + 1));
  shape[d] = 1;
  const out = Tensor.empty(shape, x.dtype, x.device);
  native.reduce(ReduceOp.sum, x.storage.id, x.offset, out.storage.id, 0, outer, r, inner);
  return out;
}

const sumOp = defineOp<{ dims: number[]; keepdim: boolean }>({
  name: "sum",
  forward: ([x], { dims, keepdim }) => {
    let y = x.contiguous();
    for (const d of [...dims].sort((a, b) => b - a)) y = sumDim(y, d);
    const shape = keepdim ? y.shape : x.shape.filter((_, i) => !dims.includes(i));
    return { outputs: [new Tensor(y.storage, shape)] };
  },
  backward: ({ inputs: [x], attrs: { dims } }, [g]) => {
    const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
    return [g!.reshape(...kept).expand(...x.shape)];
  },
  keeps: () => [],
});

function resolveDims(x: Tensor, dim: number | number[] | undefined, op: string): number[] {
  if (dim === undefined) return x.shape.map((_, i) => i);
  const dims = (Array.isArray(dim) ? dim : [dim]).map((d) => normalizeDim(d, x.ndim, op));
  if (new Set(dims).size !== dims.length) throw opError(op, `repeated dims ${JSON.stringify(dim)}`, [x]);
  return dims;
}

export function sum(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  if (x.dtype === "i32") throw opError("sum", "expected a floating-point tensor", [x]);
  return apply(sumOp, [x], { dims: resolveDims(x, dim, "sum"), keepdim })[0];
}

export function mean(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  const dims = resolveDims(x, dim, "mean");
  const count = numelOf(dims.map((d) => x.shape[d]));
  return sum(x, dims, keepdim).mul(1 / count);
}

/** The 2-norm over `dim` (all elements when omitted). */
export function norm(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  return sum(x.square(), dim, keepdim).sqrt();
}

/** The dims of `g` that broadcasting to it from `shape` added or expanded. */
function broadcastDims(g: Tensor, shape: readonly number[]): number[] {
  const lead = g.ndim - shape.length;
  return g.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1));
}

/** Sums `g` over the dims that broadcasting added or expanded, back to `shape`. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  return sum(g, broadcastDims(g, shape), true).reshape(...shape);
}

/**
 * sumToShape(g * x, shape), the gradient of a multiplier broadcast from `shape`, in one pass
 * without the g * x tensor when the summed dims are one run of g's (as for a scalar or a
 * per-row gate) and x has g's shape; otherwise g * x is formed, broadcasting x. The result has
 * the wider dtype.
 */
export function productSumToShape(g: Tensor, x: Tensor, shape: readonly number[]): Tensor {
  const dims = broadcastDims(g, shape);
  const run = dims.length > 0 && dims[dims.length - 1] - dims[0] === dims.length - 1;
  if (!run || !sameShape(g.shape, x.shape)) return sumToShape(g.mul(x), shape);
  const [d0, d1] = [dims[0], dims[dims.length - 1] + 1];
  const gc = g.contiguous(), xc = x.contiguous();
  const out = Tensor.empty(shape, promote(g.dtype, x.dtype), g.device);
  native.productSum(gc.storage.id, gc.offset, xc.storage.id, xc.offset, out.storage.id, 0,
    numelOf(g.shape.slice(0, d0)), numelOf(g.shape.slice(d0, d1)), numelOf(g.shape.slice(d1)));
  return out;
}
