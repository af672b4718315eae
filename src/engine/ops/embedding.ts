/** Embedding lookup: gather rows of a (vocab, dim) table; backward scatter-adds. */
import { apply, opError } from "../dispatch.ts";
import { defineOp } from "../op-registry.ts";
import { native } from "../native.ts";
import { Tensor } from "../tensor.ts";
import { zeros } from "./create.ts";

const embeddingOp = defineOp<null>({
  name: "embedding",
  forward: ([weight, idx]) => {
    const [V, D] = weight.shape;
    const ids = idx.contiguous();
    const out = Tensor.empty([...idx.shape, D], weight.dtype, weight.device);
    native.embeddingForward(weight.storage.id, weight.offset, ids.storage.id, ids.offset, out.storage.id, 0, idx.numel, V, D);
    return { outputs: [out], saved: [ids] };
  },
  backward: ({ inputs: [weight], saved: [ids] }, [g]) => {
    const [V, D] = weight.shape;
    const gw = zeros(weight.shape, { dtype: weight.dtype, device: weight.device });
    const gc = g!.contiguous();
    native.embeddingBackward(gw.storage.id, 0, ids.storage.id, ids.offset, gc.storage.id, gc.offset, ids.numel, V, D);
    return [gw, null];
  },
  keeps: ({ saved }) => saved,
});

/** weight[idx]: idx is an i32 tensor of any shape; the result has shape (...idx, dim). */
export function embedding(idx: Tensor, weight: Tensor): Tensor {
  if (idx.dtype !== "i32") throw opError("embedding", `indices must be i32, got ${idx.dtype}`, [idx, weight]);
  if (weight.ndim !== 2) throw opError("embedding", "weight must be 2-D (vocab, dim)", [idx, weight]);
  if (!weight.isContiguous()) throw opError("embedding", "weight must be contiguous", [idx, weight]);
  return apply(embeddingOp, [weight, idx], null)[0];
}
