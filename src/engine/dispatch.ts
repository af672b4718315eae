/**
 * The op registry. Every op is a named, pure function `(inputs, attrs) -> outputs` with a
 * backward, so a forward pass can be recorded on the tape and traced to a data-only graph.
 */
import { isGradEnabled, noGrad, type Node } from "./autograd.ts";
import type { Storage } from "./memory.ts";
import { timeOp } from "./op-timer.ts";
import { formatShape } from "./shape.ts";
import type { Tensor } from "./tensor.ts";

export interface OpContext<A = any> {
  inputs: Tensor[];
  outputs: Tensor[];
  attrs: A;
  saved: Tensor[];
}

export interface OpDef<A = any> {
  name: string;
  /** Computes the outputs; `saved` holds extra tensors backward needs (e.g. rstd, lse). */
  forward(inputs: Tensor[], attrs: A): { outputs: Tensor[]; saved?: Tensor[] };
  /** Gradients for each input (null where none flows). Absent for non-differentiable ops. */
  backward?(ctx: OpContext<A>, grads: (Tensor | null)[]): (Tensor | null)[];
  /**
   * The forward tensors whose values backward reads; the others may be released once no code
   * holds them. Without it, backward may read every input, output and saved tensor.
   */
  keeps?(ctx: OpContext<A>): (Tensor | null)[];
}

/** Receives every op application while a trace is active. */
export type TraceHook = (name: string, inputs: Tensor[], attrs: unknown, outputs: Tensor[]) => void;

const registry = new Map<string, OpDef>();
let traceHook: TraceHook | null = null;
// Ops may be built from other ops; only the outermost application is traced.
let depth = 0;

export function defineOp<A>(def: OpDef<A>): OpDef<A> {
  if (registry.has(def.name)) throw new Error(`defineOp: an op named \`${def.name}\` is already registered`);
  registry.set(def.name, def as OpDef);
  return def;
}

/** The registered op of that name, or an error that lists what exists. */
export function getOp(name: string): OpDef {
  const op = registry.get(name);
  if (!op) throw new Error(`Unknown op \`${name}\`; registered ops: ${[...registry.keys()].sort().join(", ")}`);
  return op;
}

export function opNames(): string[] {
  return [...registry.keys()].sort();
}

/** Installs (or removes, with null) the hook that records op applications. */
export function setTraceHook(hook: TraceHook | null): TraceHook | null {
  const prev = traceHook;
  traceHook = hook;
  return prev;
}

/** Describes tensors for error messages: `[2, 3] f32, [4] i32`. */
export function describe(inputs: readonly Tensor[]): string {
  return inputs.map((t) => `${formatShape(t.shape)} ${t.dtype}`).join(", ");
}

/** An error that names the op, the message, and the shapes and dtypes involved. */
export function opError(op: string, message: string, inputs: readonly Tensor[]): Error {
  return new Error(`${op}: ${message} (inputs: ${describe(inputs)})`);
}

/** Applies a registered op: checks liveness and devices, runs forward, records the tape. */
export function apply<A>(op: OpDef<A>, inputs: Tensor[], attrs: A): Tensor[] {
  for (const t of inputs) t.assertAlive(op.name);
  const device = inputs[0]?.device;
  if (inputs.some((t) => t.device !== device)) {
    throw opError(op.name, `all inputs must be on one device, got ${inputs.map((t) => t.device).join(", ")}`, inputs);
  }
  const record = isGradEnabled() && op.backward !== undefined && inputs.some((t) => t.requiresGrad);
  depth++;
  let result: { outputs: Tensor[]; saved?: Tensor[] };
  try {
    result = timeOp(op.name, () => noGrad(() => op.forward(inputs, attrs)));
  } finally {
    depth--;
  }
  const { outputs, saved = [] } = result;
  if (record) {
    const ctx = { inputs, outputs, attrs, saved };
    const kept = new Set<Storage>();
    for (const t of op.keeps ? op.keeps(ctx) : [...inputs, ...outputs, ...saved]) {
      if (t && t.storage.generation !== null) kept.add(t.storage);
    }
    const node: Node = { op: op as OpDef, inputs, outputs, attrs, saved, kept: [...kept], done: false };
    for (const s of kept) s.tapeRefs++;
    for (const o of outputs) {
      o.requiresGrad = true;
      o.gradFn = node;
    }
  }
  if (traceHook && depth === 0) traceHook(op.name, inputs, attrs, outputs);
  return outputs;
}
