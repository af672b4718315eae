/**
 * The op registry. Every op is a named, pure function `(inputs, attrs) -> outputs` with a
 * backward, so a forward pass can be recorded on the tape and traced to a data-only graph.
 * A leaf module (no runtime imports): op files register at load time, in whatever order the
 * engine's modules happen to be imported.
 */
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

const registry = new Map<string, OpDef>();

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
