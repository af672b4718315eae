/** The Tensor: a strided view of a native storage, with autograd bookkeeping. */
import { runBackward, type Node } from "./autograd.ts";
import { bf16ToFloats, floatsToBf16 } from "./bf16.ts";
import { describe } from "./dispatch.ts";
import { type DType, type Device } from "./dtype.ts";
import { allocate, type Storage } from "./memory.ts";
import { native } from "./native.ts";
import { contiguousStrides, formatShape, numelOf } from "./shape.ts";
import * as ops from "./ops/index.ts";

export type TensorLike = Tensor | number;

export class Tensor {
  requiresGrad = false;
  /** The gradient, accumulated by backward() for leaves that require grad. */
  grad: Tensor | null = null;
  /** The tape node that produced this tensor (null for leaves). */
  gradFn: Node | null = null;
  /** Set on nn.Parameter tensors; optimizers and tracing use it. */
  name = "";

  constructor(
    readonly storage: Storage,
    readonly shape: readonly number[],
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
  ) {}

  /** An uninitialised contiguous tensor (arena unless persistent). */
  static empty(shape: readonly number[], dtype: DType = "f32", device: Device = "cpu", persistent?: boolean): Tensor {
    return new Tensor(allocate(device, dtype, numelOf(shape), persistent), [...shape]);
  }

  /** A contiguous tensor holding `data` (numbers are converted to the dtype). */
  static from(data: ArrayLike<number>, shape: readonly number[], dtype: DType = "f32", device: Device = "cpu", persistent?: boolean): Tensor {
    const n = numelOf(shape);
    if (data.length !== n) throw new Error(`tensor: ${data.length} values do not fill shape ${formatShape(shape)} (${n} elements)`);
    const t = Tensor.empty(shape, dtype, device, persistent);
    t.upload(data);
    return t;
  }

  get dtype(): DType { return this.storage.dtype; }
  get device(): Device { return this.storage.device; }
  get ndim(): number { return this.shape.length; }
  get numel(): number { return numelOf(this.shape); }
  get isLeaf(): boolean { return this.gradFn === null; }

  size(dim: number): number {
    return this.shape[dim < 0 ? dim + this.ndim : dim];
  }

  isContiguous(): boolean {
    const c = contiguousStrides(this.shape);
    return this.shape.every((d, i) => d === 1 || this.strides[i] === c[i]);
  }

  /** Throws when this tensor's arena was reset, naming the op that tried to use it. */
  assertAlive(op: string): void {
    if (this.storage.alive) return;
    const why = this.storage.freed ? "its storage was freed" : "its arena was reset (tensors from one step cannot be used after resetArena())";
    throw new Error(`${op}: tensor ${formatShape(this.shape)} ${this.dtype} was used after ${why}`);
  }

  /** Writes host values into this contiguous tensor. */
  upload(data: ArrayLike<number>): void {
    this.assertAlive("upload");
    if (!this.isContiguous()) throw new Error(`upload: tensor ${formatShape(this.shape)} is not contiguous`);
    native.upload(this.storage.id, this.offset, toHost(data, this.dtype));
  }

  /** Reads the values to the host (bf16 comes back as Float32Array). */
  toArray(): Float32Array | Float64Array | Int32Array {
    this.assertAlive("toArray");
    if (this.device === "meta") throw new Error(`toArray: tensor ${formatShape(this.shape)} ${this.dtype} is on the meta device, which holds no values`);
    const c = this.contiguous();
    const raw = native.download(c.storage.id, c.offset, c.numel);
    return raw instanceof Uint16Array ? bf16ToFloats(raw) : raw;
  }

  /** The single value of a one-element tensor, like `tensor.item()`. */
  item(): number {
    if (this.numel !== 1) throw new Error(`item: expected a tensor with one element, got ${describe([this])}`);
    return this.toArray()[0];
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}, ${this.device})`;
  }

  /** Computes gradients of this tensor with respect to every leaf that requires grad. */
  backward(grad?: Tensor): void {
    if (!this.requiresGrad) throw new Error(`backward: tensor ${describe([this])} does not require grad`);
    if (!grad && this.numel !== 1) {
      throw new Error(`backward: called on a non-scalar tensor ${formatShape(this.shape)} without a gradient; pass one or reduce to a scalar first`);
    }
    runBackward(this, grad ?? ops.fullLike(this, 1));
  }

  /** Adds `g` into `.grad` (persistent when this tensor is). */
  accumulateGrad(g: Tensor): void {
    if (this.grad === null) {
      this.grad = Tensor.empty(this.shape, this.dtype, this.device, this.storage.generation === null);
      this.grad.copy_(g);
    } else {
      this.grad.addInPlace(g);
    }
  }

  requiresGrad_(value = true): this {
    if (value && this.dtype === "i32") throw new Error(`requiresGrad_: an i32 tensor cannot require grad`);
    this.requiresGrad = value;
    return this;
  }

  /** A tensor sharing storage but cut from the tape. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  // Views: share storage, recorded on the tape.
  reshape(...shape: number[]): Tensor { return ops.reshape(this, shape); }
  view(...shape: number[]): Tensor { return ops.reshape(this, shape); }
  flatten(): Tensor { return ops.reshape(this, [this.numel]); }
  transpose(d0: number, d1: number): Tensor { return ops.transpose(this, d0, d1); }
  get T(): Tensor { return ops.transpose(this, -2, -1); }
  /** The last two dims swapped (a batch of matrices transposed), like PyTorch's `.mT`. */
  get mT(): Tensor { return this.T; }
  permute(...dims: number[]): Tensor { return ops.permute(this, dims); }
  slice(dim: number, start: number, end: number): Tensor { return ops.slice(this, dim, start, end); }
  unsqueeze(dim: number): Tensor { return ops.unsqueeze(this, dim); }
  squeeze(dim: number): Tensor { return ops.squeeze(this, dim); }
  expand(...shape: number[]): Tensor { return ops.expand(this, shape); }
  contiguous(): Tensor { return this.isContiguous() ? this : ops.contiguous(this); }
  to(dtype: DType): Tensor { return dtype === this.dtype ? this : ops.cast(this, dtype); }

  // Arithmetic, broadcasting like PyTorch.
  add(other: TensorLike): Tensor { return ops.add(this, other); }
  sub(other: TensorLike): Tensor { return ops.sub(this, other); }
  mul(other: TensorLike): Tensor { return ops.mul(this, other); }
  div(other: TensorLike): Tensor { return ops.div(this, other); }
  neg(): Tensor { return ops.neg(this); }
  pow(exponent: number): Tensor { return ops.pow(this, exponent); }
  relu(): Tensor { return ops.relu(this); }
  square(): Tensor { return ops.square(this); }
  tanh(): Tensor { return ops.tanh(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  rsqrt(): Tensor { return ops.rsqrt(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  abs(): Tensor { return ops.abs(this); }
  matmul(other: Tensor): Tensor { return ops.matmul(this, other); }
  sum(dim?: number | number[], keepdim = false): Tensor { return ops.sum(this, dim, keepdim); }
  mean(dim?: number | number[], keepdim = false): Tensor { return ops.mean(this, dim, keepdim); }
  norm(dim?: number | number[], keepdim = false): Tensor { return ops.norm(this, dim, keepdim); }
  softmax(dim = -1): Tensor { return ops.softmax(this, dim); }
  logSoftmax(dim = -1): Tensor { return ops.logSoftmax(this, dim); }

  // In-place updates: never recorded on the tape (optimizers, initialisation, grad accumulation).
  copy_(src: Tensor): this { ops.copyInto(this, src); return this; }
  fill_(value: number): this { ops.fillInPlace(this, value); return this; }
  zero_(): this { return this.fill_(0); }
  addInPlace(other: Tensor): this { ops.addInto(this, other); return this; }
}

/** Converts host numbers to the typed array a dtype's storage expects. */
function toHost(data: ArrayLike<number>, dtype: DType): ArrayBufferView {
  switch (dtype) {
    case "f32": return data instanceof Float32Array ? data : Float32Array.from(data);
    case "f64": return data instanceof Float64Array ? data : Float64Array.from(data);
    case "i32": return data instanceof Int32Array ? data : Int32Array.from(data);
    case "bf16": return floatsToBf16(data);
  }
}
