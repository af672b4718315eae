/**
 * Device memory. Persistent storages (parameters, gradients, optimizer state, buffers) live until
 * freed. Everything else comes from a per-step arena that `resetArena()` releases at once, so
 * memory never depends on the JS garbage collector.
 */
import { native } from "./native.ts";
import { DTYPE_ID, type DType, type Device } from "./dtype.ts";
import { META_STORAGE_ID } from "./meta.ts";

/** A native allocation. `generation` is null for persistent storage. */
export class Storage {
  freed = false;
  /** How many recorded tape nodes read this storage's values in their backward. */
  tapeRefs = 0;
  /** Set when the module call that made it has returned without handing it on: only the tape may need it. */
  orphan = false;

  constructor(
    readonly id: number,
    readonly device: Device,
    readonly dtype: DType,
    readonly numel: number,
    readonly generation: number | null,
  ) {}

  /** True while the native memory behind this storage may still be used. */
  get alive(): boolean {
    return !this.freed && (this.generation === null || this.generation === arenaGeneration);
  }

  /** Hands an arena storage back to the arena for reuse within the step. */
  release(): void {
    if (this.generation === null || !this.alive) return;
    native.release(this.id);
    this.freed = true;
  }

  /** Frees a persistent storage now (arena storages go with the next reset). */
  free(): void {
    if (this.generation !== null || this.freed) return;
    native.free(this.id);
    this.freed = true;
  }
}

let arenaGeneration = 0;
let persistentDepth = 0;
let allocationLog: Storage[] | null = null;

/** Runs `fn` and returns, with its result, every storage allocated while it ran. */
export function trackAllocations<T>(fn: () => T, log: Storage[] = []): [T, Storage[]] {
  const outer = allocationLog;
  try {
    return [logAllocationsTo(log, fn), log];
  } finally {
    if (outer) for (const s of log) outer.push(s);  // a loop: a spread of a long log overflows the stack
  }
}

/** Runs `fn` with its allocations logged to `log` alone. */
export function logAllocationsTo<T>(log: Storage[] | null, fn: () => T): T {
  const outer = allocationLog;
  allocationLog = log;
  try {
    return fn();
  } finally {
    allocationLog = outer;
  }
}

/** Allocates `numel` elements; persistent inside `persistent(...)` or when asked. */
export function allocate(device: Device, dtype: DType, numel: number, persistent = persistentDepth > 0): Storage {
  // Meta storage holds no memory, so nothing frees it: it is persistent.
  if (device === "meta") return new Storage(META_STORAGE_ID, device, dtype, numel, null);
  const id = native.alloc(device, DTYPE_ID[dtype], numel, !persistent);
  const storage = new Storage(id, device, dtype, numel, persistent ? null : arenaGeneration);
  allocationLog?.push(storage);
  return storage;
}

/** Logs `s` as if allocated now (a storage handed from the forward pass to backward). */
export function noteAllocated(s: Storage): void {
  allocationLog?.push(s);
}

/** Runs `fn` with every allocation in it persistent (model construction, optimizer state). */
export function persistent<T>(fn: () => T): T {
  persistentDepth++;
  try {
    return fn();
  } finally {
    persistentDepth--;
  }
}

/** Releases every arena tensor. Call it once per training step, after `optimizer.step()`. */
export function resetArena(): void {
  arenaGeneration = native.resetArena();
}

export interface MemoryStats {
  persistentBytes: number;
  arenaUsedBytes: number;
  arenaReservedBytes: number;
  peakBytes: number;
}

export function memoryStats(device: Device): MemoryStats {
  return native.memoryStats(device);
}

export function resetPeakMemory(device: Device): void {
  native.resetPeak(device);
}

export function synchronize(device: Device): void {
  native.synchronize(device);
}
