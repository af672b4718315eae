/** RMSNorm without weight over the last dim. */
import { apply, opError } from "../dispatch.ts";
import { defineOp } from "../op-registry.ts";
import { DTYPE_EPS, statDtype } from "../dtype.ts";
import { native } from "../native.ts";
import { Tensor } from "../tensor.ts";

const rmsNormOp = defineOp<{ eps: number }>({
  name: "rms_norm",
  forward: ([input], { eps }) => {
    const x = input.contiguous();
    const dim = x.shape[x.ndim - 1], rows = x.numel / dim;
    const out = Tensor.empty(x.shape, x.dtype, x.device);
    const rstd = Tensor.empty([rows], statDtype(x.dtype), x.device);
    native.rmsNormForward(x.storage.id, x.offset, out.storage.id, 0, rstd.storage.id, 0, rows, dim, eps);
    return { outputs: [out], saved: [rstd] };
  },
  // From the output (dx = rstd (g - y mean(g y))), so the input need not be kept.
  backward: ({ outputs: [y], saved: [rstd] }, [g]) => {
    const dim = y.shape[y.ndim - 1], rows = y.numel / dim;
    const gc = g!.contiguous();
    const dx = Tensor.empty(y.shape, y.dtype, y.device);
    native.rmsNormBackward(y.storage.id, y.offset, rstd.storage.id, 0, gc.storage.id, gc.offset, dx.storage.id, 0, rows, dim);
    return [dx];
  },
  keeps: ({ outputs, saved }) => [...outputs, ...saved],
});

/** x / sqrt(mean(x^2, -1) + eps); eps defaults to the dtype's machine epsilon, as in torch. */
export function rmsNorm(x: Tensor, eps?: number): Tensor {
  if (x.dtype === "i32" || x.ndim === 0) throw opError("rms_norm", "expected a floating-point tensor with at least 1 dim", [x]);
  return apply(rmsNormOp, [x], { eps: eps ?? DTYPE_EPS[x.dtype] })[0];
}
