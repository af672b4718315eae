/**
 * The trusted table of the causality proof: for every op the evaluator will replay, how its
 * outputs' dims carry the batch and time axes of its inputs (see time-axes.ts). It is the
 * evaluator's own code; nothing in the trace can add to it. An op missing here is rejected.
 *
 * Each rule also checks the inputs and attrs as the op's public wrapper would, because the
 * replay calls the op's forward directly with what the trace says. Only `attention` may mix
 * positions, and only causally (query i reads keys i - window .. i, whatever its attrs say).
 */
import type { DType } from "../engine/index.ts";
import { broadcastShapes, numelOf, sameShape } from "../engine/shape.ts";
import { DTYPES, show } from "./check-graph.ts";
import {
  axesOf, axisName, broadcastJoin, free, freeLayout, hasAxes, joinDims, layoutShape, notProvable, regroup,
  type Dim, type Layout, type TimeFactor,
} from "./time-axes.ts";

/** An input of a node as the proof sees it. */
export interface Operand {
  shape: readonly number[];
  dtype: DType;
  layout: Layout;
  /** The graph's targets as the final loss's labels: the loss at a position reads its own. */
  isLabels: boolean;
}

/** An output that no op may read, with the reason. */
export interface Unreadable {
  unreadable: string;
}

export interface OpRule {
  /** The outputs' layouts; throws NotProvable with a reason that reads after "node N (op)". */
  outputs(inputs: readonly Operand[], attrs: unknown, where: string): (Layout | Unreadable)[];
  /** The attrs at another batch size, from the outputs' shapes there; absent where attrs hold no sizes. */
  resize?(attrs: unknown, outputShapes: readonly number[][]): unknown;
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

/** The attrs object with exactly `keys` (unknown attrs could change what the op does). */
function attrsWith<K extends string>(attrs: unknown, keys: readonly K[]): Record<K, unknown> {
  const ok = typeof attrs === "object" && attrs !== null && !Array.isArray(attrs)
    && Object.keys(attrs).length === keys.length && keys.every((k) => Object.hasOwn(attrs, k));
  if (!ok) notProvable(`has attrs ${show(attrs)}; expected exactly {${keys.join(", ")}}`);
  return attrs as Record<K, unknown>;
}

function noAttrs(attrs: unknown): void {
  if (attrs !== null) notProvable(`has attrs ${show(attrs)}; expected none`);
}

function arity(inputs: readonly Operand[], n: number): void {
  if (inputs.length !== n) notProvable(`reads ${inputs.length} inputs; expected ${n}`);
}

function float(...inputs: Operand[]): void {
  for (const x of inputs) if (x.dtype === "i32") notProvable("reads an i32 tensor where it computes in floating point");
}

function finite(v: unknown, name: string, min = -Infinity): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) notProvable(`has ${name} ${show(v)}; expected a finite number${min > -Infinity ? ` >= ${min}` : ""}`);
  return v;
}

function intIn(v: unknown, name: string, lo: number, hi: number): number {
  if (!isInt(v) || v < lo || v > hi) notProvable(`has ${name} ${show(v)}; expected an integer in [${lo}, ${hi}]`);
  return v;
}

function shapeAttr(v: unknown): number[] {
  if (!Array.isArray(v) || !v.every((d) => isInt(d) && d >= 1)) notProvable(`has shape ${show(v)}; expected a list of integers >= 1`);
  return v;
}

/** NumPy broadcasting, or a rejection naming the shapes. */
function broadcastShape(shapes: readonly (readonly number[])[]): number[] {
  const shape = shapes.reduce<number[] | null>((a, b) => a && broadcastShapes(a, b), []);
  if (!shape) notProvable(`cannot broadcast shapes ${shapes.map(show).join(" and ")}`);
  return shape;
}

/** A dim this op mixes across (a reduction, a normalization, a contraction) must hold no axis. */
function mixes(dim: Dim, how: string): void {
  const axis = axesOf(dim)[0];
  if (axis) notProvable(`${how}, which holds the ${axisName(axis)}`);
}

const same = (x: Operand): Layout[] => [x.layout];

const pointwise: OpRule = {
  outputs: (inputs, attrs) => {
    arity(inputs, 1);
    finite(attrsWith(attrs, ["s"]).s, "s");
    float(inputs[0]);
    return same(inputs[0]);
  },
};

const binary: OpRule = {
  outputs: (inputs, attrs) => {
    noAttrs(attrs);
    arity(inputs, 2);
    float(...inputs);
    return [broadcastJoin(inputs.map((x) => x.layout), broadcastShape(inputs.map((x) => x.shape)))];
  },
};

/** Over the last dim only: each row of it is one position's features. */
function lastDimRule(withEps: boolean): OpRule {
  return {
    outputs: ([x, ...rest], attrs) => {
      if (withEps) finite(attrsWith(attrs, ["eps"]).eps, "eps", 0);
      else noAttrs(attrs);
      arity([x, ...rest], 1);
      float(x);
      if (x.shape.length === 0) notProvable("reads a 0-dim tensor; expected at least 1 dim");
      mixes(x.layout.at(-1)!, "normalizes over its last dim");
      return same(x);
    },
  };
}

/** (..., M, K) @ (..., K, N): the K dims are summed over; the batch dims line up. */
function matmulLayout(a: Operand, b: Operand): Layout {
  const n = a.shape.length;
  if (n < 2 || b.shape.length < 2) notProvable("multiplies tensors of fewer than 2 dims");
  if (a.dtype !== b.dtype) notProvable(`multiplies ${a.dtype} by ${b.dtype}; expected one dtype`);
  if (a.shape[n - 1] !== b.shape.at(-2)) notProvable(`has inner dims ${show(a.shape)} @ ${show(b.shape)} that differ`);
  if (b.shape.length > 2 && !sameShape(a.shape.slice(0, -2), b.shape.slice(0, -2))) notProvable(`has batch dims that differ: ${show(a.shape)} @ ${show(b.shape)}`);
  mixes(a.layout[n - 1], "sums over the last dim of its first operand");
  mixes(b.layout.at(-2)!, "sums over the second-to-last dim of its second operand");
  const lead = a.layout.slice(0, -2).map((d, i) => (b.shape.length > 2 ? joinDims([d, b.layout[i]]) : d));
  return [...lead, a.layout[n - 2], b.layout.at(-1)!];
}

/** A time factor moved `by` positions, remembering where look-ahead first appeared. */
function shifted(t: TimeFactor, size: number, by: number, where: string): TimeFactor {
  const ahead = t.ahead + by;
  return { kind: "time", size, ahead, aheadFrom: ahead > 0 && t.ahead <= 0 ? where : t.aheadFrom };
}

/** The time factor of a dim that is the time axis alone (size-1 factors aside), or null for a free dim. */
function timeAlong(dim: Dim, doing: string): TimeFactor | null {
  const axes = axesOf(dim);
  if (axes.some((f) => f.kind === "batch")) notProvable(`${doing} along the batch axis (rows)`);
  if (axes.length === 0) return null;
  if (dim.some((f) => f.size > 1 && f.kind !== "time")) notProvable(`${doing} along a dim that merges the time axis with others`);
  return axes[0] as TimeFactor;
}

const resizeShape = (attrs: unknown, [shape]: readonly number[][]) => ({ ...(attrs as object), shape });

export const CAUSALITY_RULES: Readonly<Record<string, OpRule>> = {
  ...Object.fromEntries(
    ["neg", "relu", "square", "tanh", "sigmoid", "rsqrt", "exp", "log", "sqrt", "abs", "add_scalar", "mul_scalar", "pow_scalar",
      "relu_square", "softcap", "sign", "step"].map((name) => [name, pointwise]),
  ),
  ...Object.fromEntries(["add", "sub", "mul", "div", "maximum"].map((name) => [name, binary])),

  contiguous: { outputs: (inputs, attrs) => (noAttrs(attrs), arity(inputs, 1), same(inputs[0])) },
  cast: {
    outputs: (inputs, attrs) => {
      const { dtype } = attrsWith(attrs, ["dtype"]);
      if (!DTYPES.has(dtype as string)) notProvable(`casts to ${show(dtype)}; expected f32, bf16, i32 or f64`);
      arity(inputs, 1);
      return same(inputs[0]);
    },
  },

  scaled_add: {
    outputs: (inputs, attrs) => {
      noAttrs(attrs);
      arity(inputs, 4);
      float(...inputs);
      const [x, a, y, b] = inputs;
      if (!sameShape(x.shape, y.shape)) notProvable(`adds shapes ${show(x.shape)} and ${show(y.shape)}; expected one shape`);
      for (const s of [a, b]) {
        if (numelOf(s.shape) !== 1) notProvable(`has a scale of shape ${show(s.shape)}; expected one element`);
        if (hasAxes(s.layout)) notProvable("scales by an element of the input, the same one at every position");
      }
      return [x.layout.map((d, i) => joinDims([d, y.layout[i]]))];
    },
  },

  matmul: {
    outputs: (inputs, attrs) => {
      noAttrs(attrs);
      arity(inputs, 2);
      float(...inputs);
      return [matmulLayout(inputs[0], inputs[1])];
    },
  },

  baddbmm: {
    outputs: (inputs, attrs) => {
      const { alpha, beta } = attrsWith(attrs, ["alpha", "beta"]);
      finite(alpha, "alpha");
      finite(beta, "beta");
      arity(inputs, 3);
      float(...inputs);
      const [input, a, b] = inputs;
      if (b.shape.length !== a.shape.length) notProvable("multiplies tensors of different ranks");
      if (input.dtype !== a.dtype) notProvable(`adds ${input.dtype} to ${a.dtype}; expected one dtype`);
      const product = matmulLayout(a, b);
      const shape = layoutShape(product);
      if (!sameShape(broadcastShape([input.shape, shape]), shape)) notProvable(`cannot broadcast ${show(input.shape)} to ${show(shape)}`);
      return [broadcastJoin([input.layout, product], shape)];
    },
  },

  reshape: {
    outputs: ([x, ...rest], attrs) => {
      arity([x, ...rest], 1);
      const shape = shapeAttr(attrsWith(attrs, ["shape"]).shape);
      if (numelOf(shape) !== numelOf(x.shape)) notProvable(`reshapes ${show(x.shape)} to ${show(shape)}, which has another number of elements`);
      return [regroup(x.layout, shape)];
    },
    resize: resizeShape,
  },

  permute: {
    outputs: ([x, ...rest], attrs) => {
      arity([x, ...rest], 1);
      const { dims } = attrsWith(attrs, ["dims"]);
      const n = x.shape.length;
      if (!Array.isArray(dims) || dims.length !== n || new Set(dims).size !== n || !dims.every((d) => isInt(d) && d >= 0 && d < n)) {
        notProvable(`has dims ${show(dims)}; expected a permutation of 0..${n - 1}`);
      }
      return [dims.map((d: number) => x.layout[d])];
    },
  },

  slice: {
    outputs: ([x, ...rest], attrs, where) => {
      arity([x, ...rest], 1);
      const a = attrsWith(attrs, ["dim", "start", "end"]);
      const dim = intIn(a.dim, "dim", 0, x.shape.length - 1);
      const start = intIn(a.start, "start", 0, x.shape[dim] - 1);
      const end = intIn(a.end, "end", start + 1, x.shape[dim]);
      const time = timeAlong(x.layout[dim], "slices");
      const out = [...x.layout];
      out[dim] = time ? [shifted(time, end - start, start, where)] : free(end - start);
      return [out];
    },
  },

  expand: {
    outputs: ([x, ...rest], attrs) => {
      arity([x, ...rest], 1);
      const shape = shapeAttr(attrsWith(attrs, ["shape"]).shape);
      const lead = shape.length - x.shape.length;
      if (lead < 0 || x.shape.some((d, i) => d !== 1 && d !== shape[lead + i])) notProvable(`expands ${show(x.shape)} to ${show(shape)}`);
      return [broadcastJoin([x.layout], shape)];
    },
    resize: resizeShape,
  },

  concat: {
    outputs: (inputs, attrs, where) => {
      if (inputs.length === 0) notProvable("concatenates nothing");
      const [first] = inputs;
      const n = first.shape.length;
      const dim = intIn(attrsWith(attrs, ["dim"]).dim, "dim", 0, n - 1);
      for (const x of inputs) {
        if (x.dtype !== first.dtype || x.shape.length !== n || x.shape.some((d, i) => i !== dim && d !== first.shape[i])) {
          notProvable(`concatenates ${inputs.map((t) => `${t.dtype} ${show(t.shape)}`).join(", ")}; expected one dtype and shapes that differ only in dim ${dim}`);
        }
      }
      // A piece placed at offset o reads its own position p - o: it moves o positions back.
      let offset = 0, time: TimeFactor | null = null;
      for (const x of inputs) {
        const t = timeAlong(x.layout[dim], "concatenates");
        if (t) {
          const moved = shifted(t, 0, -offset, where);
          if (!time || moved.ahead > time.ahead) time = moved;
        }
        offset += x.shape[dim];
      }
      const out = first.layout.map((_, i) => (i === dim ? free(offset) : joinDims(inputs.map((x) => x.layout[i]))));
      if (time) out[dim] = [{ ...time, size: offset }];
      return [out];
    },
  },

  sum: {
    outputs: ([x, ...rest], attrs) => {
      arity([x, ...rest], 1);
      float(x);
      const { dims, keepdim } = attrsWith(attrs, ["dims", "keepdim"]);
      const n = x.shape.length;
      if (!Array.isArray(dims) || new Set(dims).size !== dims.length || !dims.every((d) => isInt(d) && d >= 0 && d < n)) {
        notProvable(`has dims ${show(dims)}; expected distinct dims in 0..${n - 1}`);
      }
      if (typeof keepdim !== "boolean") notProvable(`has keepdim ${show(keepdim)}; expected a boolean`);
      for (const d of dims) mixes(x.layout[d], `sums over dim ${d}`);
      return [x.layout.flatMap((d, i) => (!dims.includes(i) ? [d] : keepdim ? [free(1)] : []))];
    },
  },

  softmax: lastDimRule(false),
  log_softmax: lastDimRule(false),
  rms_norm: lastDimRule(true),

  embedding: {
    outputs: (inputs, attrs) => {
      noAttrs(attrs);
      arity(inputs, 2);
      const [weight, idx] = inputs;
      if (weight.shape.length !== 2 || weight.dtype === "i32") notProvable(`looks up rows of a ${weight.dtype} ${show(weight.shape)} table; expected a 2-D floating-point one`);
      if (idx.dtype !== "i32") notProvable(`looks up ${idx.dtype} indices; expected i32`);
      if (hasAxes(weight.layout)) notProvable("looks up rows of a table computed from the input (a gather across positions)");
      return [[...idx.layout, free(weight.shape[1])]];
    },
  },

  rotary: {
    outputs: (inputs, attrs) => {
      noAttrs(attrs);
      arity(inputs, 3);
      float(...inputs);
      const [x, cos, sin] = inputs;
      const [, T, , D] = x.shape;
      if (x.shape.length !== 4 || D % 2 !== 0) notProvable(`rotates ${show(x.shape)}; expected (B, T, H, D) with D even`);
      for (const table of [cos, sin]) {
        if (!sameShape(table.shape, [T, D / 2]) || table.dtype !== x.dtype) {
          notProvable(`has a ${table.dtype} ${show(table.shape)} cos/sin table; expected ${x.dtype} ${show([T, D / 2])}`);
        }
        if (hasAxes(table.layout)) notProvable("rotates by a cos/sin table computed from the input");
      }
      mixes(x.layout[3], "rotates pairs across dim 3");
      const out = [...x.layout];
      out[1] = joinDims([x.layout[1], cos.layout[0], sin.layout[0]]);
      return [out];
    },
  },

  attention: {
    outputs: (inputs, attrs) => {
      const a = attrsWith(attrs, ["window", "scale"]);
      arity(inputs, 3);
      float(...inputs);
      const [q] = inputs;
      if (q.shape.length !== 4 || inputs.some((x) => !sameShape(x.shape, q.shape) || x.dtype !== q.dtype)) {
        notProvable(`attends over ${inputs.map((t) => `${t.dtype} ${show(t.shape)}`).join(", ")}; expected q, k, v of one (B, T, H, D) shape and dtype`);
      }
      intIn(a.window, "window", 0, q.shape[1]);
      finite(a.scale, "scale");
      for (const x of inputs) mixes(x.layout[3], "takes dot products over dim 3");
      // Query i reads keys and values at j <= i only: the time factor keeps its look-ahead.
      let time: TimeFactor | null = null;
      for (const x of inputs) {
        const t = timeAlong(x.layout[1], "attends");
        if (t && (!time || t.ahead > time.ahead)) time = t;
      }
      const across = (d: number) => joinDims(inputs.map((x) => x.layout[d]));
      return [[across(0), time ? [{ ...time, size: q.shape[1] }] : free(q.shape[1]), across(2), q.layout[3]]];
    },
  },

  cross_entropy: {
    outputs: (inputs, attrs) => {
      const a = attrsWith(attrs, ["ignoreIndex", "softcap"]);
      if (!isInt(a.ignoreIndex)) notProvable(`has ignoreIndex ${show(a.ignoreIndex)}; expected an integer`);
      finite(a.softcap, "softcap", 0);
      arity(inputs, 2);
      const [logits, targets] = inputs;
      float(logits);
      if (targets.dtype !== "i32" || logits.shape.length === 0 || !sameShape(targets.shape, logits.shape.slice(0, -1))) {
        notProvable(`scores ${targets.dtype} targets ${show(targets.shape)} against logits ${show(logits.shape)}; expected i32 targets of the logits' shape without its last dim`);
      }
      mixes(logits.layout.at(-1)!, "normalizes over its last dim");
      // The final loss reads each position's own label, no other.
      const labels = targets.isLabels ? targets.layout.map((d) => d.map((f) => (f.kind === "time" ? { kind: "free" as const, size: f.size } : f))) : targets.layout;
      const loss = broadcastJoin([logits.layout.slice(0, -1), labels], targets.shape);
      const count: Layout | Unreadable = hasAxes(targets.layout)
        ? { unreadable: "counts the targets that are not ignored, across every row and position" }
        : freeLayout([]);
      return [loss, count];
    },
  },
};
