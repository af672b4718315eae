import type { Measurement } from "./experiment.ts";

/**
 * Below this CPU share a run was measured under heavy contention: other work on the machine
 * took half the CPU time the run's threads could have used. The CPU budget clock still gives
 * it its budget, but its figures are worth a second look.
 */
export const HEAVY_CONTENTION_SHARE = 0.5;

/** True when the run's CPU share is known and below {@link HEAVY_CONTENTION_SHARE}. */
export function underContention(measurement: Pick<Measurement, "cpuShare">): boolean {
  return measurement.cpuShare != null && measurement.cpuShare < HEAVY_CONTENTION_SHARE;
}

/** The CPU share as the reports show it: `0.93`, or `0.42 (heavy contention)`. */
export function formatCpuShare(share: number): string {
  return `${share.toFixed(2)}${share < HEAVY_CONTENTION_SHARE ? " (heavy contention)" : ""}`;
}

/**
 * The load the runs were measured under, in a phrase for the noise line: the median CPU share
 * and how many runs were under heavy contention. Null when no run recorded its share (the
 * GPU's wall clock).
 */
export function describeLoad(measurements: readonly Pick<Measurement, "cpuShare">[]): string | null {
  const shares = measurements.flatMap((m) => (m.cpuShare == null ? [] : [m.cpuShare])).sort((a, b) => a - b);
  if (shares.length === 0) return null;
  const middle = shares.length >> 1;
  const median = shares.length % 2 ? shares[middle]! : (shares[middle - 1]! + shares[middle]!) / 2;
  const contended = shares.filter((share) => share < HEAVY_CONTENTION_SHARE).length;
  return (
    `measured at a median CPU share of ${median.toFixed(2)} over ${shares.length} run${shares.length === 1 ? "" : "s"}` +
    (contended ? `, ${contended} under heavy contention (share < ${HEAVY_CONTENTION_SHARE})` : "")
  );
}
