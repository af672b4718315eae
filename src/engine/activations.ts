/**
 * Activation memory. JS cannot say when a tensor becomes unreachable without the garbage
 * collector, so a module call is the unit: when its forward returns, the arena storages made
 * inside it that the result does not hold become orphans, which only the tape can still need.
 *
 * An orphan that no backward reads goes back to the arena at once. One made by a cheap op (cast,
 * relu², rms_norm) is dropped too and made again from its inputs just before a backward reads
 * it, as torch.compile's partitioner does. The rest stays until backward's last read.
 */
import type { Node } from "./autograd.ts";
import { rerun } from "./dispatch.ts";
import { trackAllocations, type Storage } from "./memory.ts";
import { Tensor } from "./tensor.ts";

/** Runs a module's forward and releases what it leaves behind (see above). */
export function releaseLeftovers<T>(forward: () => T): T {
  const [result, made] = trackAllocations(forward);
  const held = new Set<Storage>();
  collectStorages(result, held);
  // Allocation order is dependency order, so an input is settled before what was made from it.
  for (const s of made) {
    if (s.generation === null || s.orphan || !s.alive || held.has(s)) continue;
    s.orphan = true;
    if (canRemake(s)) {
      if (s.tapeRefs > 0) for (const input of s.madeBy!.inputs) pin(input.storage, s.pins);
      s.remakable = true;
      s.release();
    } else if (s.tapeRefs === 0) s.release();
  }
  return result;
}

/** Makes every dropped storage that `node`'s backward reads again. */
export function materializeKept(node: Node): void {
  for (const s of node.kept) if (!s.alive && s.remakable) remake(s);
}

/** One fewer reader: an orphan goes back to the arena after its last one. */
export function unref(s: Storage): void {
  s.tapeRefs--;
  if (s.tapeRefs === 0 && s.orphan) s.release();
}

function canRemake(s: Storage): boolean {
  const node = s.madeBy;
  return node !== null && node.op.recompute === true && node.inputs.every((t) => t.storage.alive || t.storage.remakable);
}

/** Keeps `s` (or, when it is dropped itself, what it is made from) until a remake has used it. */
function pin(s: Storage, pins: Storage[]): void {
  if (s.alive) {
    if (s.generation === null) return;
    s.tapeRefs++;
    pins.push(s);
  } else {
    for (const input of s.madeBy!.inputs) pin(input.storage, pins);
  }
}

function remake(s: Storage): void {
  const node = s.madeBy!;
  const inputs = node.inputs.map((t) => t.storage);
  for (const input of inputs) {
    if (input.alive) continue;
    if (!input.remakable) throw new Error(`backward: cannot compute ${node.op.name} again: an input of it was released (was the arena reset?)`);
    remake(input);
  }
  const [fresh, scratch] = trackAllocations(() => rerun(node));
  const adopted = new Set<Storage>();
  const pairs = [...zip(node.outputs, fresh.outputs), ...zip(node.saved, fresh.saved ?? [])];
  for (const [old, now] of pairs) {
    if (!old.storage.alive && old.storage.remakable && !adopted.has(now.storage)) {
      old.storage.adopt(now.storage);
      adopted.add(now.storage);
    }
  }
  for (const leftover of scratch) leftover.release();
  // Inputs made again only for this remake go back at once; then the pins are let go.
  for (const input of inputs) if (input.orphan && input.tapeRefs === 0) input.release();
  for (const p of s.pins.splice(0)) unref(p);
}

function* zip(a: readonly Tensor[], b: readonly Tensor[]): Generator<[Tensor, Tensor]> {
  for (let i = 0; i < Math.min(a.length, b.length); i++) yield [a[i], b[i]];
}

/** Every storage a module result holds: tensors, arrays of them and plain objects of them. */
function collectStorages(value: unknown, into: Set<Storage>): void {
  if (value instanceof Tensor) into.add(value.storage);
  else if (Array.isArray(value)) for (const v of value) collectStorages(v, into);
  else if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectStorages(v, into);
  }
}
