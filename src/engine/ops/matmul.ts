/** Matrix multiplication (batched, with transposed views read in place) and linear. */
import { autocastDtype } from "../autocast.ts";
import { apply, opError } from "../dispatch.ts";
import { defineOp } from "../op-registry.ts";
import { native } from "../native.ts";
import { formatShape, numelOf, sameShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";

/** How the native GEMM can read a (..., R, C) tensor without copying, if it can. */
interface MatrixLayout {
  t: Tensor;
  trans: boolean;
  batchStride: number;
}

function layoutOf(x: Tensor): MatrixLayout {
  const n = x.ndim, R = x.shape[n - 2], C = x.shape[n - 1];
  const [sr, sc] = [x.strides[n - 2], x.strides[n - 1]];
  const rowMajor = (sc === 1 || C === 1) && (sr === C || R === 1);
  const colMajor = !rowMajor && (sr === 1 || R === 1) && (sc === R || C === 1);
  // Batch dims must walk memory with one stride (or all be broadcast with stride 0).
  const batchDims = x.shape.slice(0, n - 2);
  let batchStride = R * C;
  let ok = rowMajor || colMajor;
  if (ok && batchDims.length > 0) {
    const inner = x.strides[n - 3];
    batchStride = numelOf(batchDims) === 1 ? R * C : inner;
    let expect = inner;
    for (let i = n - 3; i >= 0; i--) {
      if (x.shape[i] !== 1 && x.strides[i] !== expect) ok = false;
      expect *= x.shape[i];
    }
    if (inner !== 0 && inner < R * C) ok = false;
  }
  if (ok) return { t: x, trans: colMajor, batchStride };
  return { t: x.contiguous(), trans: false, batchStride: R * C };
}

const matmulOp = defineOp<null>({
  name: "matmul",
  forward: ([a, b]) => {
    const M = a.shape[a.ndim - 2], K = a.shape[a.ndim - 1], N = b.shape[b.ndim - 1];
    const batchShape = a.shape.slice(0, -2);
    const batch = numelOf(batchShape);
    const out = Tensor.empty([...batchShape, M, N], a.dtype, a.device);
    const la = layoutOf(a), lb = layoutOf(b);
    // A 2-D weight under row-major batched inputs is one tall GEMM, not `batch` small ones.
    if (b.ndim === 2 && !la.trans && (batch === 1 || la.batchStride === M * K)) {
      native.matmul(la.t.storage.id, la.t.offset, lb.t.storage.id, lb.t.offset, out.storage.id, 0, 1, batch * M, N, K,
        false, lb.trans, 1, 0, 0, 0, 0);
      return { outputs: [out] };
    }
    const strideB = b.ndim === 2 ? 0 : lb.batchStride;
    native.matmul(la.t.storage.id, la.t.offset, lb.t.storage.id, lb.t.offset, out.storage.id, 0, batch, M, N, K,
      la.trans, lb.trans, 1, 0, batch === 1 ? 0 : la.batchStride, batch === 1 ? 0 : strideB, M * N);
    return { outputs: [out] };
  },
  backward: ({ inputs: [a, b] }, [g]) => {
    const ga = a.requiresGrad ? matmul(g!, b.transpose(-2, -1)) : null;
    if (!b.requiresGrad) return [ga, null];
    const gb = b.ndim === 2 && a.ndim > 2
      ? matmul(a.reshape(-1, a.shape[a.ndim - 1]).transpose(0, 1), g!.reshape(-1, g!.shape[g!.ndim - 1]))
      : matmul(a.transpose(-2, -1), g!);
    return [ga, gb];
  },
  keeps: ({ inputs: [a, b] }) => [b.requiresGrad ? a : null, a.requiresGrad ? b : null],
});

/**
 * a @ b for a: (..., M, K) and b: (K, N) or (..., K, N) with the same batch dims. Inside
 * `autocast(dtype)` both inputs are cast to that dtype first (fp32 accumulation either way).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const cast = autocastDtype();
  if (cast && a.dtype !== "i32" && b.dtype !== "i32") {
    a = a.to(cast);
    b = b.to(cast);
  }
  const bad = (msg: string) => opError("matmul", msg, [a, b]);
  if (a.ndim < 2 || b.ndim < 2) throw bad("expected tensors with at least 2 dims");
  if (a.dtype !== b.dtype) throw bad(`dtypes must match, got ${a.dtype} and ${b.dtype}`);
  if (a.dtype === "i32") throw bad("expected floating-point tensors");
  if (a.shape[a.ndim - 1] !== b.shape[b.ndim - 2]) {
    throw bad(`inner dims differ: ${formatShape(a.shape)} @ ${formatShape(b.shape)}`);
  }
  if (b.ndim > 2 && !sameShape(a.shape.slice(0, -2), b.shape.slice(0, -2))) {
    throw bad(`batch dims differ: ${formatShape(a.shape.slice(0, -2))} vs ${formatShape(b.shape.slice(0, -2))}`);
  }
  return apply(matmulOp, [a, b], null)[0];
}

/** x @ weight^T, weight: (out, in); no bias, as every layer of the reference. */
export function linear(x: Tensor, weight: Tensor): Tensor {
  return matmul(x, weight.transpose(0, 1));
}

/**
 * out = alpha * a @ b + beta * out, in place and off the tape, for optimizers that want the GEMM
 * epilogue (Muon's Polar Express). a: (..., M, K), b: (..., K, N) with the same batch dims; out is
 * contiguous and shares no storage with a or b; beta 0 never reads it. No autocast.
 */
export function matmulInto(out: Tensor, a: Tensor, b: Tensor, alpha = 1, beta = 0): Tensor {
  const M = a.shape[a.ndim - 2], K = a.shape[a.ndim - 1], N = b.shape[b.ndim - 1];
  const batchShape = a.shape.slice(0, -2);
  const fits = a.ndim >= 2 && b.ndim === a.ndim && b.shape[b.ndim - 2] === K && sameShape(b.shape.slice(0, -2), batchShape);
  if (!fits || !sameShape(out.shape, [...batchShape, M, N]) || a.dtype !== b.dtype || out.dtype !== a.dtype || a.dtype === "i32") {
    throw opError("matmulInto", "expected out (..., M, N) = a (..., M, K) @ b (..., K, N), all of one floating-point dtype", [out, a, b]);
  }
  if (!out.isContiguous() || out.storage === a.storage || out.storage === b.storage) {
    throw opError("matmulInto", "out must be contiguous and share no storage with a or b", [out, a, b]);
  }
  const batch = numelOf(batchShape), la = layoutOf(a), lb = layoutOf(b);
  native.matmul(la.t.storage.id, la.t.offset, lb.t.storage.id, lb.t.offset, out.storage.id, out.offset, batch, M, N, K,
    la.trans, lb.trans, alpha, beta, batch === 1 ? 0 : la.batchStride, batch === 1 ? 0 : lb.batchStride, M * N);
  return out;
}
