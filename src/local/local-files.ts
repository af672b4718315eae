/**
 * What the local loop writes into the work repository, beside the code. None of it is
 * committed: the names are added to `.git/info/exclude`, as the reference keeps its
 * `results.tsv` untracked.
 */
export const LOCAL_FILES = {
  /** One row per finished experiment, in the reference's columns. */
  results: "results.tsv",
  /** One JSON line per experiment: the full record. */
  ledger: "ledger.jsonl",
  /** The morning report. */
  report: "report.md",
  /** val_bpb per experiment, as a PNG. */
  chart: "progress.png",
  /** `result.json` and `train.log` of every run. */
  runs: "runs",
} as const;
