/** Cross-entropy over the last dim with ignore_index and an optional fused logit softcap. */
import { takeForGradient } from "../module-scope.ts";
import { apply, opError } from "../dispatch.ts";
import { defineOp } from "../op-registry.ts";
import { statDtype } from "../dtype.ts";
import { native } from "../native.ts";
import { formatShape, sameShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";

interface CrossEntropyAttrs {
  ignoreIndex: number;
  softcap: number;
}

const crossEntropyOp = defineOp<CrossEntropyAttrs>({
  name: "cross_entropy",
  forward: ([logits, targets], { ignoreIndex, softcap }) => {
    const x = logits.contiguous(), t = targets.contiguous();
    const V = x.shape[x.ndim - 1], rows = x.numel / V;
    const st = statDtype(x.dtype);
    const loss = Tensor.empty(targets.shape, st, x.device);
    const lse = Tensor.empty([rows], st, x.device);
    const count = Tensor.empty([], st, x.device);
    native.crossEntropyForward(x.storage.id, x.offset, t.storage.id, t.offset, loss.storage.id, 0, lse.storage.id, 0,
      count.storage.id, 0, rows, V, ignoreIndex, softcap);
    return { outputs: [loss, count], saved: [x, t, lse] };
  },
  backward: ({ saved: [x, t, lse], attrs: { ignoreIndex, softcap } }, [g]) => {
    const V = x.shape[x.ndim - 1], rows = x.numel / V;
    const gl = g!.contiguous();
    const dx = takeForGradient(x) ?? Tensor.empty(x.shape, x.dtype, x.device);
    native.crossEntropyBackward(x.storage.id, x.offset, t.storage.id, t.offset, lse.storage.id, 0, gl.storage.id, gl.offset,
      dx.storage.id, 0, rows, V, ignoreIndex, softcap);
    return [dx, null];
  },
  keeps: ({ saved }) => saved,
});

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (PyTorch's default is -100). */
  ignoreIndex?: number;
  reduction?: "mean" | "sum" | "none";
  /** When > 0, logits become softcap * tanh(logits / softcap) first, fused into the same kernel. */
  softcap?: number;
}

/**
 * Per-token negative log-likelihood of `targets` (i32) under `logits` (..., V). Losses are f32
 * (f64 for f64 logits). "mean" averages over the targets that are not ignored.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const bad = (msg: string) => opError("cross_entropy", msg, [logits, targets]);
  if (logits.dtype === "i32") throw bad("logits must be floating-point");
  if (targets.dtype !== "i32") throw bad(`targets must be i32, got ${targets.dtype}`);
  if (!sameShape(logits.shape.slice(0, -1), targets.shape)) {
    throw bad(`targets shape ${formatShape(targets.shape)} must equal the logits shape without its last dim`);
  }
  const reduction = opts.reduction ?? "mean";
  if (!["mean", "sum", "none"].includes(reduction)) throw bad(`expected reduction to be mean, sum or none, got ${reduction}`);
  const [loss, count] = apply(crossEntropyOp, [logits, targets], { ignoreIndex: opts.ignoreIndex ?? -100, softcap: opts.softcap ?? 0 });
  if (reduction === "none") return loss;
  const total = loss.sum();
  return reduction === "sum" ? total : total.div(count);
}
