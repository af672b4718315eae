/**
 * The budget clock's reading as the runner publishes it to the training process: a small JSON
 * file that the runner rewrites (through a rename) a few times a second, in a directory the
 * sandbox shows read-only. The runner keeps the clock; train.ts only reads how much is used.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";

/** The environment variable that names the reading's file in a run under the runner. */
export const BUDGET_FILE_ENV = "AUTORESEARCH_BUDGET_FILE";

/**
 * What the budget counts. `wall`: seconds of wall time, as the reference does on its GPU.
 * `cpu`: the CPU time of every process of the run, divided by the engine's thread count, so
 * that other work on the machine barely moves it.
 */
export type BudgetClockKind = "wall" | "cpu";

/** One reading of the clock. */
export interface BudgetReading {
  clock: BudgetClockKind;
  /** Budget seconds used so far; 0 until the clock starts (at the run's first step). */
  seconds: number;
}

/** Writes `reading` to `path` whole: a reader sees the previous reading or this one, never a mix. */
export function writeBudgetReading(path: string, reading: BudgetReading): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, JSON.stringify(reading));
  renameSync(temporary, path);
}

/** Reads the reading at `path`. @throws naming the file and what was wrong with it. */
export function readBudgetReading(path: string): BudgetReading {
  const text = readFileSync(path, "utf8");
  let value: Partial<BudgetReading> | null = null;
  try {
    value = JSON.parse(text);
  } catch {
    // Reported below with the text.
  }
  if (!value || (value.clock !== "wall" && value.clock !== "cpu") || !(typeof value.seconds === "number" && value.seconds >= 0)) {
    throw new Error(`Expected the budget reading in ${path} to be {"clock":"wall"|"cpu","seconds":>=0}, got \`${text.slice(0, 80)}\``);
  }
  return { clock: value.clock, seconds: value.seconds };
}
