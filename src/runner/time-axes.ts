/**
 * The vocabulary of the causality proof: where the model input's batch axis (rows) and time
 * axis (positions) sit inside each traced tensor. A tensor's layout lists its dims; a dim is a
 * row-major list of factors, outer first; a factor is the batch axis, the time axis, or free
 * (features, heads, a constant's own extent). A reshape regroups factors, never loses them.
 *
 * What a layout promises about its tensor: the element at an index depends on the input tokens
 * of one row only, the one its batch factor's index names, and only on the positions up to its
 * time factor's index plus `ahead`. A tensor with no batch factor depends on no input token.
 */
import { numelOf } from "../engine/shape.ts";

export interface BatchFactor {
  kind: "batch";
  size: number;
}

export interface TimeFactor {
  kind: "time";
  size: number;
  /** How far past its own index an element may read: 0 for the input, > 0 is look-ahead. */
  ahead: number;
  /** Where `ahead` first went above 0 ("node 5 (slice)"), for the rejection message. */
  aheadFrom: string | null;
}

export interface FreeFactor {
  kind: "free";
  size: number;
}

export type AxisFactor = BatchFactor | TimeFactor;
export type Factor = AxisFactor | FreeFactor;
export type Dim = readonly Factor[];
export type Layout = readonly Dim[];

/** Why a step of the proof fails; the prover adds the node. */
export class NotProvable extends Error {
  override name = "NotProvable";
}

export function notProvable(message: string): never {
  throw new NotProvable(message);
}

const AXIS_NAMES = { batch: "batch axis (rows)", time: "time axis" } as const;
export const axisName = (f: AxisFactor) => AXIS_NAMES[f.kind];


/** A dim's size, with the batch factor counted at `batchSize` when given. */
export function dimSize(dim: Dim, batchSize?: number): number {
  return numelOf(dim.map((f) => (f.kind === "batch" && batchSize !== undefined ? batchSize : f.size)));
}

/** A layout's shape, with the batch axis at `batchSize` when given. */
export function layoutShape(layout: Layout, batchSize?: number): number[] {
  return layout.map((d) => dimSize(d, batchSize));
}

export const free = (size: number): Dim => (size === 1 ? [] : [{ kind: "free", size }]);
export const freeLayout = (shape: readonly number[]): Layout => shape.map(free);
export const axesOf = (dim: Dim) => dim.filter((f): f is AxisFactor => f.kind !== "free");
export const hasAxes = (layout: Layout) => layout.some((d) => axesOf(d).length > 0);

/** Drops size-1 free factors and merges neighbouring free ones, so equal dims compare equal. */
function normalize(factors: readonly Factor[]): Dim {
  const out: Factor[] = [];
  for (const f of factors) {
    if (f.kind === "free" && f.size === 1) continue;
    const last = out.at(-1);
    if (f.kind === "free" && last?.kind === "free") out[out.length - 1] = { kind: "free", size: last.size * f.size };
    else out.push(f);
  }
  return out;
}

/** Each factor with the range of flat offsets [lo, hi) it spans inside its dim (strides from the inside). */
function spans(dim: Dim): { f: Factor; lo: number; hi: number }[] {
  let stride = 1;
  return dim.map((f) => f).reverse().map((f) => {
    const span = { f, lo: stride, hi: stride * f.size };
    stride = span.hi;
    return span;
  }).reverse();
}

function joinAxes(a: AxisFactor, b: AxisFactor): AxisFactor {
  if (a.kind !== b.kind) notProvable(`lines up the batch axis of one operand with the time axis of another`);
  if (a.kind === "batch" || b.kind === "batch") return a;
  return a.ahead >= b.ahead ? a : b;
}

/**
 * The dim of an elementwise combination of same-sized dims: an axis factor of one operand must
 * meet the same axis at the same offsets in the others, or free extent (which says nothing about
 * positions, so any split of it will do). The batch axis may not meet free extent: that extent
 * is a constant's, sized by the traced batch, and the graph could not run at another.
 */
export function joinDims(dims: readonly Dim[]): Dim {
  if (dims.length === 1) return dims[0];
  const all = dims.map(spans);
  const axes = new Map<string, { f: AxisFactor; lo: number; hi: number }>();
  all.forEach((mine, k) => {
    for (const { f, lo, hi } of mine) {
      if (f.kind === "free") continue;
      for (const other of all.filter((_, j) => j !== k).flat()) {
        if (other.hi <= lo || other.lo >= hi) continue;
        if (other.f.kind !== "free") {
          if (other.lo !== lo || other.hi !== hi) notProvable(`lines up the ${axisName(f)} of one operand with part of a merged dim of another`);
        } else if (f.kind === "batch" && f.size > 1) {
          notProvable(`lines up the batch axis with a dim of size ${f.size} that does not come from the input (a constant sized by the traced batch: size it 1 and let broadcasting widen it)`);
        }
      }
      const key = `${lo}:${hi}`;
      const seen = axes.get(key);
      axes.set(key, { f: seen ? joinAxes(seen.f, f) : f, lo, hi });
    }
  });
  const out: Factor[] = [];
  let outer = dimSize(dims[0]);
  for (const { f, lo, hi } of [...axes.values()].sort((a, b) => b.lo - a.lo)) {
    if (outer % hi !== 0) notProvable(`cannot line up the ${axisName(f)} with the other operands' dims`);
    out.push({ kind: "free", size: outer / hi }, f);
    outer = lo;
  }
  out.push({ kind: "free", size: outer });
  return normalize(out);
}

/**
 * A size-1 dim broadcast to `size`: a lone position stands for every later one; a lone row may
 * not stand for others. Null where it holds no axis: the same value everywhere lines up with anything.
 */
function broadcastDim(dim: Dim, size: number): Dim | null {
  if (dimSize(dim) === size) return dim;
  const axes = axesOf(dim);
  if (axes.some((f) => f.kind === "batch")) notProvable(`broadcasts one row of the batch to ${size}`);
  const time = axes.find((f): f is TimeFactor => f.kind === "time");
  return time ? [{ ...time, size }] : null;
}

/** NumPy broadcasting of several layouts to `shape`, joining what lines up. */
export function broadcastJoin(layouts: readonly Layout[], shape: readonly number[]): Layout {
  return shape.map((size, i) => {
    const dims = layouts.flatMap((l) => {
      const d = l[i - (shape.length - l.length)];
      const wide = d === undefined ? null : broadcastDim(d, size);
      return wide === null ? [] : [wide];
    });
    return joinDims(dims.length ? dims : [free(size)]);
  });
}

/** Regroups the factors of `layout` into `shape` (a reshape): free factors may split, axes may not. */
export function regroup(layout: Layout, shape: readonly number[]): Layout {
  const queue: Factor[] = [...normalize(layout.flat())]; // free runs across dims merge: (6, 4) -> (4, 6) is fine
  const out = shape.map((size) => {
    const dim: Factor[] = [];
    let have = 1;
    while (have < size) {
      const f = queue.shift();
      if (f === undefined) notProvable("runs out of elements: its shape does not match its input's size");
      const need = size / have;
      if (f.size <= need && need % f.size === 0) {
        dim.push(f);
        have *= f.size;
      } else if (f.kind === "free" && f.size % need === 0) {
        dim.push({ kind: "free", size: need });
        queue.unshift({ kind: "free", size: f.size / need });
        have = size;
      } else {
        notProvable(f.kind === "free"
          ? `cannot split a dim of ${f.size} into ${need}`
          : `splits the ${axisName(f)} (size ${f.size}) across dims`);
      }
    }
    while (queue[0]?.size === 1) dim.push(queue.shift()!); // size-1 factors ride with the dim before them
    return normalize(dim);
  });
  if (queue.length > 0) notProvable("leaves elements over: its shape does not match its input's size");
  return out;
}

/**
 * Settles a new layout to at most one batch and one time factor: two would mean rows or
 * positions from two places mixed. A size-1 time factor (one position, index 0) folds into
 * the other time factor: reading <= 0 + a is reading <= i + a for every i >= 0.
 */
export function settleAxes(layout: Layout): Layout {
  const axes = layout.flatMap(axesOf);
  if (axes.filter((f) => f.kind === "batch").length > 1) notProvable("combines rows along two batch axes");
  const times = axes.filter((f): f is TimeFactor => f.kind === "time");
  if (times.length < 2) return layout;
  const wide = times.filter((f) => f.size > 1);
  if (wide.length > 1) notProvable("combines positions along two time axes (as a T x T mixing would)");
  const keep = wide[0] ?? times[0];
  const furthest = times.reduce((a, b) => (b.ahead > a.ahead ? b : a));
  const merged: TimeFactor = { ...keep, ahead: furthest.ahead, aheadFrom: furthest.aheadFrom };
  return layout.map((d) => normalize(d.flatMap((f): Factor[] => (f.kind !== "time" ? [f] : f === keep ? [merged] : []))));
}
