/**
 * Where a step's time goes, by op: each op (forward, and each node's backward) runs with the
 * device synchronised before and after it, so the table shows what every op costs on its own.
 * The syncs remove all overlap, so the total is a profile, not a speed to report.
 */
import type { Device } from "./dtype.ts";
import { synchronize } from "./memory.ts";

export interface OpTime {
  calls: number;
  ms: number;
}

let timer: { device: Device; times: Map<string, OpTime>; inOp: boolean } | null = null;

/** Starts timing every op on `device` (see above); `stopOpTimer` returns the table. */
export function startOpTimer(device: Device): void {
  timer = { device, times: new Map(), inOp: false };
}

/** Stops timing and returns milliseconds and calls by op name, the largest first. */
export function stopOpTimer(): [string, OpTime][] {
  const times = timer ? [...timer.times] : [];
  timer = null;
  return times.sort((a, b) => b[1].ms - a[1].ms);
}

/**
 * Runs `fn`, counting its time under the op's name (and `phase`, as in "attention backward")
 * while a timer runs; ops inside ops count once, under the outer one. Without a timer it only
 * calls `fn`: the label is built only when it is used.
 */
export function timeOp<T>(op: string, fn: () => T, phase?: "backward"): T {
  const t = timer;
  if (!t || t.inOp) return fn();
  const name = phase ? `${op} ${phase}` : op;
  t.inOp = true;
  synchronize(t.device);
  const start = performance.now();
  try {
    return fn();
  } finally {
    synchronize(t.device);
    const entry = t.times.get(name) ?? { calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += performance.now() - start;
    t.times.set(name, entry);
    t.inOp = false;
  }
}
