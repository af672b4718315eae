/** Views (reshape, transpose, permute, slice, expand), copies, casts and concatenation. */
import { castOnce } from "../autocast.ts";
import { apply, opError } from "../dispatch.ts";
import { defineOp } from "../op-registry.ts";
import type { DType } from "../dtype.ts";
import { native } from "../native.ts";
import { contiguousStrides, formatShape, normalizeDim, numelOf, sameShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { sumToShape } from "./reduce.ts";
import { zeros } from "./create.ts";

function viewOf(t: Tensor, shape: readonly number[], strides: readonly number[], offset = t.offset): Tensor {
  return new Tensor(t.storage, shape, strides, offset);
}

/** Copies a (possibly strided) tensor into a new contiguous one of the given dtype. */
function materialize(x: Tensor, dtype: DType = x.dtype): Tensor {
  const out = Tensor.empty(x.shape, dtype, x.device);
  native.copy(x.storage.id, x.offset, [...x.strides], out.storage.id, 0, contiguousStrides(x.shape), [...x.shape]);
  return out;
}

const contiguousOp = defineOp<null>({
  name: "contiguous",
  forward: ([x]) => ({ outputs: [materialize(x)] }),
  backward: (_ctx, [g]) => [g],
  keeps: () => [],
});

const castOp = defineOp<{ dtype: DType }>({
  name: "cast",
  forward: ([x], { dtype }) => ({ outputs: [materialize(x, dtype)] }),
  backward: ({ inputs: [x] }, [g]) => [g!.to(x.dtype)],
  keeps: () => [],
});

const reshapeOp = defineOp<{ shape: number[] }>({
  name: "reshape",
  forward: ([x], { shape }) => {
    const src = x.isContiguous() ? x : materialize(x);
    return { outputs: [viewOf(src, shape, contiguousStrides(shape))] };
  },
  backward: ({ inputs: [x] }, [g]) => [g!.reshape(...x.shape)],
  keeps: () => [],
});

const permuteOp = defineOp<{ dims: number[] }>({
  name: "permute",
  forward: ([x], { dims }) => ({
    outputs: [viewOf(x, dims.map((d) => x.shape[d]), dims.map((d) => x.strides[d]))],
  }),
  backward: ({ attrs: { dims } }, [g]) => {
    const inverse = new Array<number>(dims.length);
    dims.forEach((d, i) => (inverse[d] = i));
    return [g!.permute(...inverse)];
  },
  keeps: () => [],
});

const sliceOp = defineOp<{ dim: number; start: number; end: number }>({
  name: "slice",
  forward: ([x], { dim, start, end }) => {
    const shape = [...x.shape];
    shape[dim] = end - start;
    return { outputs: [viewOf(x, shape, x.strides, x.offset + start * x.strides[dim])] };
  },
  backward: ({ inputs: [x], attrs: { dim, start, end } }, [g]) => {
    const gx = zeros(x.shape, { dtype: g!.dtype, device: g!.device });
    copyInto(gx.slice(dim, start, end), g!);
    return [gx];
  },
  keeps: () => [],
});

const expandOp = defineOp<{ shape: number[] }>({
  name: "expand",
  forward: ([x], { shape }) => {
    const lead = shape.length - x.ndim;
    const strides = shape.map((d, i) => {
      if (i < lead) return 0;
      return x.shape[i - lead] === 1 && d !== 1 ? 0 : x.strides[i - lead];
    });
    return { outputs: [viewOf(x, shape, strides)] };
  },
  backward: ({ inputs: [x] }, [g]) => [sumToShape(g!, x.shape)],
  keeps: () => [],
});

const concatOp = defineOp<{ dim: number }>({
  name: "concat",
  forward: (inputs, { dim }) => {
    const shape = [...inputs[0].shape];
    shape[dim] = inputs.reduce((s, t) => s + t.shape[dim], 0);
    const out = Tensor.empty(shape, inputs[0].dtype, inputs[0].device);
    let at = 0;
    for (const t of inputs) {
      copyInto(out.slice(dim, at, at + t.shape[dim]), t);
      at += t.shape[dim];
    }
    return { outputs: [out] };
  },
  backward: ({ inputs, attrs: { dim } }, [g]) => {
    let at = 0;
    return inputs.map((t) => g!.slice(dim, at, (at += t.shape[dim])));
  },
  keeps: () => [],
});

export function contiguous(x: Tensor): Tensor {
  return x.isContiguous() ? x : apply(contiguousOp, [x], null)[0];
}

export function cast(x: Tensor, dtype: DType): Tensor {
  return castOnce(x, dtype, () => apply(castOp, [x], { dtype })[0]);
}

/** Reshape with at most one -1; copies only when the input is not contiguous. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const holes = shape.length - known.length;
  const knownN = numelOf(known);
  const resolved = shape.map((d) => (d === -1 ? (knownN === 0 ? 0 : x.numel / knownN) : d));
  if (holes > 1 || !resolved.every((d) => Number.isInteger(d) && d >= 0) || numelOf(resolved) !== x.numel) {
    throw opError("reshape", `cannot reshape ${formatShape(x.shape)} (${x.numel} elements) to ${formatShape(shape)}`, [x]);
  }
  if (sameShape(resolved, x.shape)) return x;
  return apply(reshapeOp, [x], { shape: resolved })[0];
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const norm = dims.map((d) => normalizeDim(d, x.ndim, "permute"));
  if (norm.length !== x.ndim || new Set(norm).size !== x.ndim) {
    throw opError("permute", `expected a permutation of ${x.ndim} dims, got ${formatShape(dims)}`, [x]);
  }
  return apply(permuteOp, [x], { dims: norm })[0];
}

export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  const dims = x.shape.map((_, i) => i);
  const a = normalizeDim(d0, x.ndim, "transpose"), b = normalizeDim(d1, x.ndim, "transpose");
  [dims[a], dims[b]] = [dims[b], dims[a]];
  return apply(permuteOp, [x], { dims })[0];
}

/** x[..., start:end, ...] along `dim` (a view). Negative bounds count from the end. */
export function slice(x: Tensor, dim: number, start: number, end: number): Tensor {
  const d = normalizeDim(dim, x.ndim, "slice");
  const n = x.shape[d];
  const s = start < 0 ? start + n : start, e = end < 0 ? end + n : Math.min(end, n);
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || s > e || e > n) {
    throw opError("slice", `range [${start}, ${end}) is out of bounds for dim ${dim} of size ${n}`, [x]);
  }
  return apply(sliceOp, [x], { dim: d, start: s, end: e })[0];
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeDim(dim, x.ndim + 1, "unsqueeze");
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}

export function squeeze(x: Tensor, dim: number): Tensor {
  const d = normalizeDim(dim, x.ndim, "squeeze");
  if (x.shape[d] !== 1) throw opError("squeeze", `dim ${dim} has size ${x.shape[d]}, expected 1`, [x]);
  return reshape(x, x.shape.filter((_, i) => i !== d));
}

/** Broadcasts size-1 dims (and new leading dims) to `shape` without copying. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  const ok = lead >= 0 && x.shape.every((d, i) => d === shape[lead + i] || d === 1);
  if (!ok) throw opError("expand", `cannot expand ${formatShape(x.shape)} to ${formatShape(shape)}`, [x]);
  if (sameShape(shape, x.shape)) return x;
  return apply(expandOp, [x], { shape: [...shape] })[0];
}

export function concat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error("concat: expected at least one tensor");
  const first = tensors[0];
  const d = normalizeDim(dim, first.ndim, "concat");
  for (const t of tensors) {
    const same = t.ndim === first.ndim && t.shape.every((s, i) => i === d || s === first.shape[i]) && t.dtype === first.dtype;
    if (!same) throw opError("concat", `shapes and dtypes must match except along dim ${dim}`, [...tensors]);
  }
  return apply(concatOp, [...tensors], { dim: d })[0];
}

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error("stack: expected at least one tensor");
  return concat(tensors.map((t) => unsqueeze(t, dim)), dim);
}

/** dst[...] = src, broadcasting src to dst's shape and converting its dtype. Not recorded. */
export function copyInto(dst: Tensor, src: Tensor): void {
  dst.assertAlive("copy_");
  src.assertAlive("copy_");
  if (dst.device !== src.device) throw opError("copy_", `devices differ: ${dst.device} and ${src.device}`, [dst, src]);
  const lead = dst.ndim - src.ndim;
  if (lead < 0 || !src.shape.every((d, i) => d === dst.shape[lead + i] || d === 1)) {
    throw opError("copy_", `cannot copy ${formatShape(src.shape)} into ${formatShape(dst.shape)}`, [dst, src]);
  }
  const srcStrides = dst.shape.map((d, i) => (i < lead || src.shape[i - lead] !== d ? 0 : src.strides[i - lead]));
  native.copy(src.storage.id, src.offset, srcStrides, dst.storage.id, dst.offset, [...dst.strides], [...dst.shape]);
}

/** Sets every element of `t` to `value`. Not recorded. */
export function fillInPlace(t: Tensor, value: number): void {
  t.assertAlive("fill_");
  if (t.isContiguous()) native.fill(t.storage.id, t.offset, t.numel, value);
  else copyInto(t, zeros([], { dtype: t.dtype, device: t.device }).add(value));
}
