/** Softmax and log-softmax over one dim (computed on the last; other dims are transposed there). */
import { apply, opError } from "../dispatch.ts";
import { defineOp } from "../op-registry.ts";
import { native } from "../native.ts";
import { normalizeDim } from "../shape.ts";
import { Tensor } from "../tensor.ts";

function defineSoftmax(name: string, log: boolean) {
  return defineOp<null>({
    name,
    forward: ([input]) => {
      const x = input.contiguous();
      const dim = x.shape[x.ndim - 1];
      const out = Tensor.empty(x.shape, x.dtype, x.device);
      native.softmaxForward(x.storage.id, x.offset, out.storage.id, 0, x.numel / dim, dim, log);
      return { outputs: [out] };
    },
    backward: ({ outputs: [y] }, [g]) => {
      const dim = y.shape[y.ndim - 1];
      const gc = g!.contiguous();
      const dx = Tensor.empty(y.shape, y.dtype, y.device);
      native.softmaxBackward(y.storage.id, y.offset, gc.storage.id, gc.offset, dx.storage.id, 0, y.numel / dim, dim, log);
      return [dx];
    },
    keeps: ({ outputs }) => outputs,
  });
}

const softmaxOp = defineSoftmax("softmax", false);
const logSoftmaxOp = defineSoftmax("log_softmax", true);

function run(op: typeof softmaxOp, x: Tensor, dim: number): Tensor {
  if (x.dtype === "i32" || x.ndim === 0) throw opError(op.name, "expected a floating-point tensor with at least 1 dim", [x]);
  const d = normalizeDim(dim, x.ndim, op.name);
  if (d === x.ndim - 1) return apply(op, [x], null)[0];
  return apply(op, [x.transpose(d, -1)], null)[0].transpose(d, -1);
}

export const softmax = (x: Tensor, dim = -1): Tensor => run(softmaxOp, x, dim);
export const logSoftmax = (x: Tensor, dim = -1): Tensor => run(logSoftmaxOp, x, dim);
