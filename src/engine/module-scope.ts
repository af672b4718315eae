/**
 * The memory scope of a module call. JS cannot say when a tensor becomes unreachable without
 * the garbage collector, so a module call is the unit: when its forward returns, the arena
 * storages made inside it that the result does not hold become orphans, which only the tape can
 * still need. An orphan that no backward reads goes back to the arena at once; the rest go after
 * the last backward that reads them. Ops declare what their backward reads (`keeps`), and
 * rms_norm and relu² differentiate from their outputs, so each layer keeps about what PyTorch
 * keeps.
 */
import type { Storage } from "./memory.ts";
import { noteAllocated, trackAllocations } from "./memory.ts";
import { Tensor } from "./tensor.ts";

/** The allocation logs of the module calls now running, innermost last. */
const openCalls: Storage[][] = [];

/** Runs a module's forward and releases what it leaves behind (see above). */
export function releaseLeftovers<T>(forward: () => T): T {
  const made: Storage[] = [];
  openCalls.push(made);
  let result: T;
  try {
    [result] = trackAllocations(forward, made);
  } finally {
    openCalls.pop();
  }
  const held = new Set<Storage>();
  collectStorages(result, held);
  for (const s of made) {
    if (s.generation === null || s.orphan || !s.alive || held.has(s)) continue;
    s.orphan = true;
    if (s.tapeRefs === 0) s.release();
  }
  return result;
}

/**
 * The log of the innermost running module call that made `s`, or null. Memory derived from `s`
 * (a shared cast) logged there lives as long as `s` does, not as long as the call that asked.
 */
export function callThatMade(s: Storage): Storage[] | null {
  for (let i = openCalls.length - 1; i >= 0; i--) if (openCalls[i].includes(s)) return openCalls[i];
  return null;
}

/**
 * `t`'s storage, for a backward to write its input gradient over, when `t` is an orphan that
 * only the running backward reads and `t` covers it: the logits' gradient takes the logits'
 * place instead of another vocab-wide buffer at the top of backward. Backward then releases it
 * as a gradient once consumed. Null when someone else may still read `t`.
 */
export function takeForGradient(t: Tensor): Tensor | null {
  const s = t.storage;
  if (!s.orphan || s.tapeRefs !== 1 || !s.alive || t.offset !== 0 || t.numel !== s.numel || !t.isContiguous()) return null;
  s.orphan = false;
  noteAllocated(s);
  return new Tensor(s, t.shape);
}

/** One fewer backward to read `s`: an orphan goes back to the arena after its last one. */
export function unref(s: Storage): void {
  s.tapeRefs--;
  if (s.tapeRefs === 0 && s.orphan) s.release();
}

/** Every storage a module result holds: tensors, arrays of them and plain objects of them. */
function collectStorages(value: unknown, into: Set<Storage>): void {
  if (value instanceof Tensor) into.add(value.storage);
  else if (Array.isArray(value)) for (const v of value) collectStorages(v, into);
  else if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectStorages(v, into);
  }
}
