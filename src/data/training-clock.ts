import { readBudgetReading, type BudgetClockKind } from "./budget-reading.ts";

/**
 * The clock train.ts's loop reads its training time from (prepare.ts's `trainingTime`), in
 * budget seconds. Under the runner it is the runner's clock, read from the file the runner
 * publishes (`budgetFile`); train.ts cannot move it, and the runner stops a run that trains
 * past it whatever train.ts does. Run on its own, train.ts gets the same kind of clock kept
 * in this process, started at the first call (the end of the first step), as the runner
 * starts its clock at the first step line.
 *
 * @param threads - the engine's thread count, which a `cpu` clock divides the CPU time by.
 */
export function trainingClock(kind: BudgetClockKind, budgetFile: string | undefined, threads: () => number): () => number {
  if (budgetFile) return () => readBudgetReading(budgetFile).seconds;
  const now =
    kind === "wall"
      ? () => performance.now() / 1000
      : () => {
          const { user, system } = process.cpuUsage();
          return (user + system) / 1e6 / threads();
        };
  let start: number | null = null;
  return () => {
    const t = now();
    start ??= t;
    return t - start;
  };
}
