/** Applies registered ops (op-registry.ts): records the tape and calls the trace hook. */
import { isGradEnabled, noGrad } from "./grad-mode.ts";
import type { Node } from "./autograd.ts";
import type { Storage } from "./memory.ts";
import type { OpDef } from "./op-registry.ts";
import { timeOp } from "./op-timer.ts";
import { formatShape } from "./shape.ts";
import type { Tensor } from "./tensor.ts";

/** Receives every op application while a trace is active. */
export type TraceHook = (name: string, inputs: Tensor[], attrs: unknown, outputs: Tensor[]) => void;

let traceHook: TraceHook | null = null;
// Ops may be built from other ops; only the outermost application is traced.
let depth = 0;

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
