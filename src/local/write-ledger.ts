import { join } from "node:path";
import { writeFileAtomic } from "../data/write-file-atomic.ts";
import type { Experiment } from "../research/experiment.ts";
import { LOCAL_FILES } from "./local-files.ts";

/** The reference's status of a finished experiment: kept on the branch, discarded, or crashed. */
export function resultStatus(experiment: Experiment): "keep" | "discard" | "crash" {
  // A baseline closes as `measured` even when its run crashed: it has no value then.
  if (experiment.outcome === "crashed" || valueOf(experiment) === null) return "crash";
  return experiment.state === "merged" || experiment.kind === "baseline" ? "keep" : "discard";
}

/** The val_bpb an experiment is known by: its judged mean, else the mean of its runs; null when it has none. */
export function valueOf(experiment: Experiment): number | null {
  if (experiment.decision?.candidate != null) return experiment.decision.candidate;
  const values = experiment.measurements.flatMap((m) => (m.valBpb === null ? [] : [m.valBpb]));
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();

/**
 * `results.tsv` as the reference writes it: commit (7 characters), val_bpb (0.000000 for a
 * crash), memory_gb, status (keep, discard or crash) and description, one row per finished
 * experiment or baseline run, oldest first.
 */
export function resultsTsv(experiments: readonly Experiment[]): string {
  const rows = [...experiments]
    .filter((e) => e.state !== "open")
    .sort((a, b) => a.n - b.n)
    .map((e) => {
      const status = resultStatus(e);
      const value = status === "crash" ? 0 : (valueOf(e) ?? 0);
      const memory = Math.max(0, ...e.measurements.map((m) => m.peakVramMb)) / 1024;
      const description = e.kind === "baseline" ? `baseline: ${oneLine(e.title)}` : oneLine(e.title);
      return [e.head.sha.slice(0, 7), value.toFixed(6), memory.toFixed(1), status, description].join("\t");
    });
  return ["commit\tval_bpb\tmemory_gb\tstatus\tdescription", ...rows].join("\n") + "\n";
}

/** `ledger.jsonl`: every experiment, open ones included, as one JSON record per line. */
export function ledgerJsonl(experiments: readonly Experiment[]): string {
  return [...experiments].sort((a, b) => a.n - b.n).map((e) => `${JSON.stringify(e)}\n`).join("");
}

/** Writes `results.tsv` and `ledger.jsonl` into the work repository (each atomically). */
export async function writeLedger(dir: string, experiments: readonly Experiment[]): Promise<void> {
  await writeFileAtomic(join(dir, LOCAL_FILES.results), resultsTsv(experiments));
  await writeFileAtomic(join(dir, LOCAL_FILES.ledger), ledgerJsonl(experiments));
}
