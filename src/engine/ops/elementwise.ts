/** Elementwise ops: broadcasting binary arithmetic, unary functions and scalar ops. */
import { promote } from "../autocast.ts";
import { apply, opError } from "../dispatch.ts";
import { defineOp, type OpDef } from "../op-registry.ts";
import { isFloat } from "../dtype.ts";
import { native } from "../native.ts";
import { BinaryOp, UnaryOp } from "../native-kernels.ts";
import { broadcastShapes, formatShape, sameShape } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { productSumToShape, sumToShape } from "./reduce.ts";

type BinaryName = keyof typeof BinaryOp;

/** Strides that read `t` as if broadcast to `shape` (0 on broadcast dims). */
function broadcastStrides(t: Tensor, shape: readonly number[]): number[] {
  const lead = shape.length - t.ndim;
  return shape.map((d, i) => (i < lead || t.shape[i - lead] !== d ? 0 : t.strides[i - lead]));
}

function binaryForward(name: BinaryName, a: Tensor, b: Tensor, out?: Tensor): Tensor {
  const shape = broadcastShapes(a.shape, b.shape)!;
  const o = out ?? Tensor.empty(shape, promote(a.dtype, b.dtype), a.device);
  native.binary(BinaryOp[name], a.storage.id, a.offset, broadcastStrides(a, shape), b.storage.id, b.offset,
    broadcastStrides(b, shape), o.storage.id, o.offset, shape);
  return o;
}

function defineBinary(name: BinaryName, grads?: Pick<OpDef<null>, "backward" | "keeps">): OpDef<null> {
  return defineOp<null>({ name, forward: ([a, b]) => ({ outputs: [binaryForward(name, a, b)] }), ...grads });
}

const readsNothing = () => [];
/** `g` summed over `t`'s broadcast dims, in `t`'s dtype (the output may be wider). */
const gradAs = (t: Tensor, g: Tensor): Tensor => sumToShape(g, t.shape).to(t.dtype);
/** A gradient for `t` only where one can flow, so backward reads only what that takes. */
const gradFor = (t: Tensor, grad: () => Tensor): Tensor | null => (t.requiresGrad ? gradAs(t, grad()) : null);

const addOp = defineBinary("add", {
  backward: ({ inputs: [a, b] }, [g]) => [gradAs(a, g!), gradAs(b, g!)],
  keeps: readsNothing,
});
const subOp = defineBinary("sub", {
  backward: ({ inputs: [a, b] }, [g]) => [gradAs(a, g!), gradAs(b, g!.neg())],
  keeps: readsNothing,
});
/** The gradient of one factor of a product, `other` being the other factor. */
const factorGrad = (t: Tensor, g: Tensor, other: Tensor): Tensor | null =>
  t.requiresGrad ? productSumToShape(g, other, t.shape).to(t.dtype) : null;

const mulOp = defineBinary("mul", {
  backward: ({ inputs: [a, b] }, [g]) => [factorGrad(a, g!, b), factorGrad(b, g!, a)],
  keeps: ({ inputs: [a, b] }) => [b.requiresGrad ? a : null, a.requiresGrad ? b : null],
});
const divOp = defineBinary("div", {
  backward: ({ inputs: [a, b] }, [g]) => [gradFor(a, () => g!.div(b)), gradFor(b, () => g!.mul(a).div(b.square()).neg())],
  keeps: ({ inputs: [a, b] }) => [b.requiresGrad ? a : null, b],
});
const maximumOp = defineBinary("maximum");

const scaledAddOp = defineOp<null>({
  name: "scaled_add",
  forward: ([x, a, y, b]) => {
    const xc = x.contiguous(), yc = y.contiguous();
    const out = Tensor.empty(x.shape, promote(x.dtype, y.dtype), x.device);
    native.scaledAdd(xc.storage.id, xc.offset, yc.storage.id, yc.offset, a.storage.id, a.offset, b.storage.id, b.offset,
      out.storage.id, 0, x.numel);
    return { outputs: [out] };
  },
  backward: ({ inputs: [x, a, y, b] }, [g]) => {
    const gc = g!.contiguous();
    const gx = Tensor.empty(x.shape, x.dtype, x.device), gy = Tensor.empty(y.shape, y.dtype, y.device);
    native.scaledAddBackward(gc.storage.id, gc.offset, a.storage.id, a.offset, b.storage.id, b.offset, gx.storage.id, 0,
      gy.storage.id, 0, x.numel);
    return [x.requiresGrad ? gx : null, factorGrad(a, gc, x), y.requiresGrad ? gy : null, factorGrad(b, gc, y)];
  },
  keeps: ({ inputs: [x, a, y, b] }) => [a, b, a.requiresGrad ? x : null, b.requiresGrad ? y : null],
});

function checkBinary(name: string, a: Tensor, b: Tensor): void {
  if (!isFloat(a.dtype) || !isFloat(b.dtype)) throw opError(name, `expected floating-point tensors, got ${a.dtype} and ${b.dtype}`, [a, b]);
  if (!broadcastShapes(a.shape, b.shape)) {
    throw opError(name, `shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} cannot be broadcast together`, [a, b]);
  }
}

/** Mixed float inputs give the wider dtype, as PyTorch does; the kernel reads each as it is. */
function binary(op: OpDef<null>, a: Tensor, b: Tensor): Tensor {
  checkBinary(op.name, a, b);
  return apply(op, [a, b], null)[0];
}

type UnaryName = keyof typeof UnaryOp;

/** What each derivative in native/common/unary-math.h reads: the input x, the output y, or neither. */
const DERIVATIVE_READS: Record<UnaryName, { x: boolean; y: boolean } | null> = {
  neg: { x: false, y: false }, relu: { x: true, y: false }, square: { x: true, y: false }, tanh: { x: false, y: true },
  sigmoid: { x: false, y: true }, rsqrt: { x: true, y: true }, exp: { x: false, y: true }, log: { x: true, y: false },
  sqrt: { x: false, y: true }, abs: { x: true, y: false }, add_scalar: { x: false, y: false }, mul_scalar: { x: false, y: false },
  pow_scalar: { x: true, y: false }, relu_square: { x: false, y: true }, softcap: { x: false, y: true }, sign: null, step: null,
};

function defineUnary(name: UnaryName): OpDef<{ s: number }> {
  const code = UnaryOp[name];
  const reads = DERIVATIVE_READS[name];
  return defineOp<{ s: number }>({
    name,
    forward: ([x], { s }) => {
      const src = x.contiguous();
      const out = Tensor.empty(x.shape, x.dtype, x.device);
      native.unary(code, src.storage.id, src.offset, out.storage.id, 0, x.numel, s);
      return { outputs: [out], saved: [src] };
    },
    backward: reads
      ? ({ saved: [src], outputs: [out], attrs: { s } }, [g]) => {
          const gc = g!.contiguous();
          // An operand the derivative does not read may be released: the kernel gets g in its place.
          const x = reads.x ? src : gc, y = reads.y ? out : gc;
          const dx = Tensor.empty(src.shape, src.dtype, src.device);
          native.unaryBackward(code, x.storage.id, x.offset, y.storage.id, y.offset, gc.storage.id, gc.offset, dx.storage.id, 0, src.numel, s);
          return [dx];
        }
      : undefined,
    keeps: ({ saved: [src], outputs: [out] }) => [reads?.x ? src : null, reads?.y ? out : null],
  });
}

const unaryOps = Object.fromEntries((Object.keys(UnaryOp) as UnaryName[]).map((n) => [n, defineUnary(n)])) as Record<UnaryName, OpDef<{ s: number }>>;

function unary(name: UnaryName, x: Tensor, s = 0): Tensor {
  if (!isFloat(x.dtype)) throw opError(name, `expected a floating-point tensor, got ${x.dtype}`, [x]);
  return apply(unaryOps[name], [x], { s })[0];
}

function checkScalar(op: string, other: TensorLike): void {
  if (typeof other === "number" && !Number.isFinite(other)) throw new RangeError(`${op}: expected a finite number, got ${other}`);
}

export function add(a: Tensor, b: TensorLike): Tensor {
  checkScalar("add", b);
  return typeof b === "number" ? unary("add_scalar", a, b) : binary(addOp, a, b);
}
export function sub(a: Tensor, b: TensorLike): Tensor {
  checkScalar("sub", b);
  return typeof b === "number" ? unary("add_scalar", a, -b) : binary(subOp, a, b);
}
export function mul(a: Tensor, b: TensorLike): Tensor {
  checkScalar("mul", b);
  return typeof b === "number" ? unary("mul_scalar", a, b) : binary(mulOp, a, b);
}
export function div(a: Tensor, b: TensorLike): Tensor {
  checkScalar("div", b);
  return typeof b === "number" ? unary("mul_scalar", a, 1 / b) : binary(divOp, a, b);
}
/**
 * a * x + b * y for one-element tensors a and b (a layer's learned residual scales), in one pass
 * forward and one backward: the fused form of x.mul(a).add(y.mul(b)), as torch.compile would make
 * it. x and y have one shape and may differ in float dtype; the result has the wider of theirs.
 * The scales do not take part in that choice, as PyTorch's 0-dim tensors do not: the reference's
 * `resid_lambdas[i] * x` keeps a bf16 x in bf16.
 */
export function scaledAdd(x: Tensor, a: Tensor, y: Tensor, b: Tensor): Tensor {
  const inputs = [x, a, y, b];
  if (inputs.some((t) => !isFloat(t.dtype))) throw opError("scaled_add", "expected floating-point tensors", inputs);
  if (!sameShape(x.shape, y.shape)) throw opError("scaled_add", `x and y must have one shape, got ${formatShape(x.shape)} and ${formatShape(y.shape)}`, inputs);
  if (a.numel !== 1 || b.numel !== 1) throw opError("scaled_add", "a and b must have one element each", inputs);
  return apply(scaledAddOp, inputs, null)[0];
}

/** Elementwise maximum (no gradient; used by optimizers for clamping). */
export function maximum(a: Tensor, b: TensorLike): Tensor {
  const bt = typeof b === "number" ? Tensor.from([b], [], a.dtype, a.device) : b;
  return binary(maximumOp, a, bt);
}

export const neg = (x: Tensor): Tensor => unary("neg", x);
export const relu = (x: Tensor): Tensor => unary("relu", x);
export const square = (x: Tensor): Tensor => unary("square", x);
export const tanh = (x: Tensor): Tensor => unary("tanh", x);
export const sigmoid = (x: Tensor): Tensor => unary("sigmoid", x);
export const rsqrt = (x: Tensor): Tensor => unary("rsqrt", x);
export const sqrt = (x: Tensor): Tensor => unary("sqrt", x);
export const exp = (x: Tensor): Tensor => unary("exp", x);
export const log = (x: Tensor): Tensor => unary("log", x);
export const abs = (x: Tensor): Tensor => unary("abs", x);
export const pow = (x: Tensor, exponent: number): Tensor => unary("pow_scalar", x, exponent);
/** relu(x)^2 in one op (the reference MLP activation). */
export const reluSquare = (x: Tensor): Tensor => unary("relu_square", x);
/** cap * tanh(x / cap): the logit softcap. */
export const softcap = (x: Tensor, cap: number): Tensor => unary("softcap", x, cap);
/** 1 where x >= 0, else 0 (no gradient). */
export const step = (x: Tensor): Tensor => unary("step", x);

/** dst += src in place (dst contiguous, same shape). Not recorded. */
export function addInto(dst: Tensor, src: Tensor): void {
  checkBinary("add_", dst, src);
  if (dst.dtype !== src.dtype) throw opError("add_", `dtypes must match, got ${dst.dtype} and ${src.dtype}`, [dst, src]);
  dst.assertAlive("add_");
  src.assertAlive("add_");
  if (!dst.isContiguous()) throw opError("add_", "the destination must be contiguous", [dst, src]);
  if (broadcastShapes(dst.shape, src.shape)!.length !== dst.ndim) throw opError("add_", "src must broadcast to dst's shape", [dst, src]);
  binaryForward("add", dst, src, dst);
}
