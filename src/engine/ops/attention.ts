/** Causal self-attention with a sliding window on (B, T, H, D) tensors. */
import { autocastDtype, promote } from "../autocast.ts";
import { apply, opError } from "../dispatch.ts";
import { defineOp } from "../op-registry.ts";
import { statDtype } from "../dtype.ts";
import { native } from "../native.ts";
import { sameShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";

interface AttentionAttrs {
  window: number;
  scale: number;
}

const attentionOp = defineOp<AttentionAttrs>({
  name: "attention",
  forward: (inputs, { window, scale }) => {
    const [q, k, v] = inputs.map((t) => t.contiguous());
    const [B, T, H, D] = q.shape;
    const out = Tensor.empty(q.shape, q.dtype, q.device);
    const lse = Tensor.empty([B, H, T], statDtype(q.dtype), q.device);
    native.attentionForward(q.storage.id, q.offset, k.storage.id, k.offset, v.storage.id, v.offset, out.storage.id, 0,
      lse.storage.id, 0, B, T, H, D, window, scale);
    return { outputs: [out], saved: [q, k, v, lse] };
  },
  backward: ({ saved: [q, k, v, lse], outputs: [out], attrs: { window, scale } }, [g]) => {
    const [B, T, H, D] = q.shape;
    const dout = g!.contiguous();
    const [dq, dk, dv] = [0, 1, 2].map(() => Tensor.empty(q.shape, q.dtype, q.device));
    native.attentionBackward(q.storage.id, q.offset, k.storage.id, k.offset, v.storage.id, v.offset, out.storage.id, out.offset,
      lse.storage.id, 0, dout.storage.id, dout.offset, dq.storage.id, 0, dk.storage.id, 0, dv.storage.id, 0,
      B, T, H, D, window, scale);
    return [dq, dk, dv];
  },
  keeps: ({ saved, outputs }) => [...saved, ...outputs],
});

/**
 * softmax(q k^T * scale) v where query i sees keys j with i - window <= j <= i (window >= T is
 * plain causal attention). scale defaults to 1/sqrt(D).
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: { window?: number; scale?: number } = {}): Tensor {
  const bad = (msg: string) => opError("attention", msg, [q, k, v]);
  if (q.ndim !== 4) throw bad("expected (B, T, H, D) tensors");
  if (!sameShape(q.shape, k.shape) || !sameShape(q.shape, v.shape)) throw bad("q, k and v must have the same shape");
  if ([q, k, v].some((t) => t.dtype === "i32")) throw bad("q, k and v must be floating-point");
  // Like torch's autocast for SDPA: the autocast dtype inside autocast, else the widest input dtype.
  const dtype = autocastDtype() ?? promote(promote(q.dtype, k.dtype), v.dtype);
  [q, k, v] = [q.to(dtype), k.to(dtype), v.to(dtype)];
  const T = q.shape[1];
  const window = opts.window ?? T;
  if (!Number.isInteger(window) || window < 0) throw bad(`expected window to be an integer >= 0, got ${window}`);
  return apply(attentionOp, [q, k, v], { window: Math.min(window, T), scale: opts.scale ?? 1 / Math.sqrt(q.shape[3]) })[0];
}
