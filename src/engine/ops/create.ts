/** Tensor creation: constants, ranges and counter-based random numbers. */
import { type DType, type Device } from "../dtype.ts";
import { native } from "../native.ts";
import { RandomKind } from "../native-kernels.ts";
import { checkShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  /** Keep the storage across arena resets (parameters, buffers, optimizer state). */
  persistent?: boolean;
}

export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  checkShape(shape, "full");
  const t = Tensor.empty(shape, opts.dtype ?? "f32", opts.device ?? "cpu", opts.persistent);
  native.fill(t.storage.id, 0, t.numel, value);
  return t;
}

export const zeros = (shape: readonly number[], opts: CreateOptions = {}): Tensor => full(shape, 0, opts);
export const ones = (shape: readonly number[], opts: CreateOptions = {}): Tensor => full(shape, 1, opts);

export function fullLike(t: Tensor, value: number): Tensor {
  return full(t.shape, value, { dtype: t.dtype, device: t.device });
}

export function zerosLike(t: Tensor): Tensor {
  return fullLike(t, 0);
}

/** 0, 1, ..., n-1. */
export function arange(n: number, opts: CreateOptions = {}): Tensor {
  return Tensor.from(Array.from({ length: n }, (_, i) => i), [n], opts.dtype ?? "f32", opts.device ?? "cpu", opts.persistent);
}

/** A contiguous tensor from host values, like `torch.tensor`. */
export function tensor(data: ArrayLike<number>, shape: readonly number[] = [data.length], opts: CreateOptions = {}): Tensor {
  return Tensor.from(data, shape, opts.dtype ?? "f32", opts.device ?? "cpu", opts.persistent);
}

let baseSeed = 0;
let drawn = 0;

/** Seeds every later random draw, like `torch.manual_seed`. */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`manualSeed: expected a safe integer >= 0, got ${seed}`);
  baseSeed = seed;
  drawn = 0;
}

// Each draw gets its own stream: the same seed gives the same values on every backend.
function nextSeed(): number {
  return (baseSeed * 1_000_003 + ++drawn) % Number.MAX_SAFE_INTEGER;
}

/** Fills `t` (contiguous) in place with N(mean, std^2). */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  if (t.device === "meta") return t; // no values, and no draw: a meta model leaves the stream to the real one
  native.random(t.storage.id, t.offset, t.numel, RandomKind.normal, nextSeed(), mean, std);
  return t;
}

/** Fills `t` (contiguous) in place with U(low, high). */
export function uniform_(t: Tensor, low = 0, high = 1): Tensor {
  if (t.device === "meta") return t;
  native.random(t.storage.id, t.offset, t.numel, RandomKind.uniform, nextSeed(), low, high);
  return t;
}

export function randn(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  checkShape(shape, "randn");
  return normal_(Tensor.empty(shape, opts.dtype ?? "f32", opts.device ?? "cpu", opts.persistent));
}

export function rand(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  checkShape(shape, "rand");
  return uniform_(Tensor.empty(shape, opts.dtype ?? "f32", opts.device ?? "cpu", opts.persistent));
}
