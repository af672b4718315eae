/**
 * Fused optimizer steps: in-place, off the tape, one native kernel each, for the optimizer that
 * train.ts writes out (AdamW and Muon as in the reference). Each doc comment gives the plain ops
 * the primitive computes, so a changed algorithm can be written with those instead.
 */
import { opError } from "../dispatch.ts";
import { statDtype } from "../dtype.ts";
import { native } from "../native.ts";
import { formatShape, sameShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { full } from "./create.ts";

export interface AdamWStepOptions {
  /** The 1-based step count of this parameter, for the bias corrections. */
  step: number;
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

function checkAlive(op: string, tensors: readonly Tensor[]): void {
  for (const t of tensors) t.assertAlive(op);
}

function checkContiguous(op: string, what: string, t: Tensor): void {
  if (!t.isContiguous()) throw opError(op, `${what} must be contiguous, got strides [${t.strides.join(", ")}]`, [t]);
}

/**
 * One AdamW step of `param` in place, as one pass over the parameter, its gradient and its two
 * moments (fp32, or f64 for f64 parameters; the moments are updated in place too):
 *
 *     param.mul_(1 - lr * weightDecay)
 *     expAvg.lerp_(grad, 1 - beta1);  expAvgSq.lerp_(grad.square(), 1 - beta2)
 *     param -= (lr / (1 - beta1 ** step)) * expAvg / ((expAvgSq / (1 - beta2 ** step)).sqrt() + eps)
 *
 * Like the reference's `adamw_step_fused`. All four tensors have the parameter's shape and are
 * contiguous; `grad` has the parameter's dtype.
 */
export function adamwStep_(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, opts: AdamWStepOptions): void {
  const op = "adamwStep_", all = [param, grad, expAvg, expAvgSq];
  checkAlive(op, all);
  if (!all.every((t) => sameShape(t.shape, param.shape))) throw opError(op, "param, grad, expAvg and expAvgSq must have one shape", all);
  if (grad.dtype !== param.dtype) throw opError(op, `grad must have the param's dtype ${param.dtype}, got ${grad.dtype}`, all);
  const momentDtype = statDtype(param.dtype);
  if (expAvg.dtype !== momentDtype || expAvgSq.dtype !== momentDtype) throw opError(op, `expAvg and expAvgSq must be ${momentDtype}`, all);
  all.forEach((t, i) => checkContiguous(op, ["param", "grad", "expAvg", "expAvgSq"][i], t));
  const { step, lr, betas: [b1, b2], eps, weightDecay } = opts;
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`${op}: expected \`step\` to be an integer >= 1, got ${step}`);
  native.adamw(param.storage.id, param.offset, grad.storage.id, grad.offset, expAvg.storage.id, expAvg.offset, expAvgSq.storage.id,
    expAvgSq.offset, param.numel, lr, b1, b2, eps, weightDecay, 1 - b1 ** step, 1 - b2 ** step);
}

/**
 * Nesterov momentum over k same-shape gradients, in one pass. `momentumBuffer` (k, ...shape) is
 * updated in place and the stacked Nesterov gradient comes back as a new (k, ...shape) tensor:
 *
 *     const g = torch.stack(grads);
 *     momentumBuffer.lerp_(g, 1 - momentum);   // buf += (g - buf) * (1 - momentum)
 *     return g.lerp(momentumBuffer, momentum);  // g + (buf - g) * momentum
 */
export function nesterovMomentum_(grads: readonly Tensor[], momentumBuffer: Tensor, momentum: number): Tensor {
  const op = "nesterovMomentum_";
  if (grads.length === 0) throw new Error(`${op}: expected at least one gradient`);
  checkAlive(op, [...grads, momentumBuffer]);
  const shape = grads[0].shape;
  if (!sameShape(momentumBuffer.shape, [grads.length, ...shape])) {
    throw opError(op, `momentumBuffer must be (${grads.length}, ${shape.join(", ")}) for ${grads.length} gradients of ${formatShape(shape)}`, [momentumBuffer, ...grads]);
  }
  if (grads.some((g) => !sameShape(g.shape, shape) || g.dtype !== momentumBuffer.dtype)) {
    throw opError(op, `every gradient must have one shape and the buffer's dtype ${momentumBuffer.dtype}`, [momentumBuffer, ...grads]);
  }
  checkContiguous(op, "momentumBuffer", momentumBuffer);
  const contiguous = grads.map((g) => g.contiguous());
  const out = Tensor.empty(momentumBuffer.shape, momentumBuffer.dtype, momentumBuffer.device);
  native.muonMomentum(contiguous.map((g) => g.storage.id), contiguous.map((g) => g.offset), momentumBuffer.storage.id, momentumBuffer.offset,
    out.storage.id, 0, grads[0].numel, momentum);
  return out;
}

/** Whether NorMuon keeps one statistic per row (rows >= cols) or per column, as the reference does. */
function normuonRowWise(rows: number, cols: number): boolean {
  return rows >= cols;
}

/**
 * NorMuon's variance reduction for an orthogonalised stack X (k, rows, cols), in one pass over X.
 * Updates `secondMomentumBuffer` ((k, rows, 1) when rows >= cols, else (k, 1, cols)) in place and
 * returns the fp32 factor (the buffer's shape) that `X.mul(scale)` applies:
 *
 *     const dim = rows >= cols ? -1 : -2, n = X.size(dim);
 *     const vMean = X.to("f32").square().mean(dim, true);
 *     const vNorm = vMean.sum([-2, -1], true).mul(n).sqrt();
 *     secondMomentumBuffer.lerp_(vMean, 1 - beta2);
 *     const step = torch.maximum(secondMomentumBuffer, 1e-10).rsqrt();
 *     const vNormNew = vMean.mul(n).mul(step.square()).sum([-2, -1], true).sqrt();
 *     return step.mul(vNorm.div(torch.maximum(vNormNew, 1e-10)));
 */
export function normuonScale_(X: Tensor, secondMomentumBuffer: Tensor, beta2: number): Tensor {
  const op = "normuonScale_";
  checkAlive(op, [X, secondMomentumBuffer]);
  if (X.ndim !== 3) throw opError(op, `expected X as a (k, rows, cols) stack, got ${formatShape(X.shape)}`, [X]);
  const [k, rows, cols] = X.shape;
  const statShape = normuonRowWise(rows, cols) ? [k, rows, 1] : [k, 1, cols];
  if (!sameShape(secondMomentumBuffer.shape, statShape)) {
    throw opError(op, `secondMomentumBuffer must be ${formatShape(statShape)} for X ${formatShape(X.shape)}`, [X, secondMomentumBuffer]);
  }
  checkContiguous(op, "X", X);
  checkContiguous(op, "secondMomentumBuffer", secondMomentumBuffer);
  const scale = Tensor.empty(statShape, statDtype(secondMomentumBuffer.dtype), X.device);
  native.norMuon(X.storage.id, X.offset, secondMomentumBuffer.storage.id, secondMomentumBuffer.offset, scale.storage.id, 0, k, rows, cols, beta2);
  return scale;
}

export interface CautiousUpdateOptions {
  lr: number;
  weightDecay: number;
}

/**
 * Muon's update with cautious weight decay, applied in place to k same-shape parameters in one
 * pass; `update` is the (k, rows, cols) stack and `scale` the factor normuonScale_ returned,
 * multiplied in as the update is read (pass null for none). For the i-th parameter p:
 *
 *     const u = update[i].mul(scale[i]);
 *     const mask = torch.step(u.mul(p));            // 1 where the update and the weight agree in sign
 *     p -= lr * u + lr * weightDecay * p * mask;
 */
export function cautiousUpdate_(params: readonly Tensor[], update: Tensor, scale: Tensor | null, opts: CautiousUpdateOptions): void {
  const op = "cautiousUpdate_";
  if (params.length === 0) throw new Error(`${op}: expected at least one parameter`);
  checkAlive(op, [...params, update, ...(scale ? [scale] : [])]);
  const shape = params[0].shape;
  if (shape.length !== 2) throw opError(op, `expected 2-D parameters, got ${formatShape(shape)}`, [params[0]]);
  const [rows, cols] = shape;
  if (!sameShape(update.shape, [params.length, rows, cols])) {
    throw opError(op, `update must be (${params.length}, ${rows}, ${cols}) for ${params.length} parameters of ${formatShape(shape)}`, [update, ...params]);
  }
  if (params.some((p) => !sameShape(p.shape, shape) || p.dtype !== params[0].dtype)) throw opError(op, "every parameter must have one shape and dtype", [...params]);
  params.forEach((p, i) => checkContiguous(op, `params[${i}]`, p));
  checkContiguous(op, "update", update);
  const statShape = normuonRowWise(rows, cols) ? [params.length, rows, 1] : [params.length, 1, cols];
  const factor = scale ?? full(statShape, 1, { dtype: statDtype(params[0].dtype), device: update.device });
  if (!sameShape(factor.shape, statShape) || factor.dtype !== statDtype(params[0].dtype)) {
    throw opError(op, `scale must be ${formatShape(statShape)} ${statDtype(params[0].dtype)}, as normuonScale_ returns it`, [factor]);
  }
  checkContiguous(op, "scale", factor);
  native.muonUpdate(params.map((p) => p.storage.id), params.map((p) => p.offset), update.storage.id, update.offset, factor.storage.id,
    factor.offset, rows, cols, opts.lr, opts.weightDecay);
}
