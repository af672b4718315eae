/**
 * Puts our GPU benchmark results beside PyTorch's from the same run, prints the ratios (the
 * acceptance figures in bench/RESULTS.md) and records the run there. Each input is a
 * benchmark's log; its last JSON line counts.
 *
 *   node compare.mjs --ours-train LOG --torch-train LOG [--ours-sssl LOG] [--ours-ops LOG --torch-ops LOG]
 *                    [--smi-ours FILE --smi-torch FILE]   (nvidia-smi memory.used samples, MiB)
 *                    [--ours-budget LOG --torch-budget LOG --budget-seconds S]
 *                    [--results bench/RESULTS.md --rows-out FILE --gpu-file FILE --commit SHA --versions TEXT]
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { appendToRuns, formatRows } from "./results-table.ts";
import type { TrainBenchResult } from "./summarize-steps.ts";

const { values } = parseArgs({
  options: Object.fromEntries(["ours-train", "torch-train", "ours-sssl", "ours-ops", "torch-ops", "smi-ours", "smi-torch", "ours-budget",
    "torch-budget", "budget-seconds", "results", "rows-out", "gpu-file", "commit", "versions"]
    .map((k) => [k, { type: "string" }])) as Record<string, { type: "string" }>,
});

function lastJson<T>(file: string | undefined): T | null {
  if (!file || !existsSync(file)) return null;
  const line = readFileSync(file, "utf8").trim().split("\n").reverse().find((l) => l.startsWith("{"));
  return line ? (JSON.parse(line) as T) : null;
}

/** Peak of nvidia-smi's samples over the first one (the idle GPU before the process started). */
function smiPeak(file: string | undefined): number | null {
  if (!file || !existsSync(file)) return null;
  const mib = readFileSync(file, "utf8").split("\n").map(Number).filter((v) => Number.isFinite(v) && v > 0);
  return mib.length ? Math.max(...mib) - mib[0] : null;
}

const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? "-" : v.toFixed(digits));
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? a / b : null);

const ours = lastJson<TrainBenchResult>(values["ours-train"]);
const torch = lastJson<TrainBenchResult>(values["torch-train"]);
const sssl = lastJson<TrainBenchResult>(values["ours-sssl"]);
const smi = { ours: smiPeak(values["smi-ours"]), torch: smiPeak(values["smi-torch"]) };

console.log(`depth-8 training step on ${ours?.device ?? torch?.device ?? "?"}`);
console.log(`${"".padEnd(26)}${"tokens/s".padStart(12)}${"MFU %".padStart(8)}${"step ms".padStart(10)}${"peak MiB".padStart(10)}${"GPU MiB".padStart(10)}${"startup s".padStart(11)}${"val_bpb".padStart(10)}`);
for (const [label, r, gpu] of [["autoresearch (L)", ours, smi.ours], ["pytorch (L)", torch, smi.torch], ["autoresearch (SSSL)", sssl, null]] as const) {
  if (!r) continue;
  console.log(`${label.padEnd(26)}${fmt(r.tokens_per_s, 0).padStart(12)}${fmt(r.mfu_percent).padStart(8)}${fmt(r.step_ms).padStart(10)}` +
    `${fmt(r.peak_vram_mb, 0).padStart(10)}${fmt(gpu, 0).padStart(10)}${fmt(r.startup_s).padStart(11)}${fmt(r.val_bpb, 4).padStart(10)}`);
}

type OpsResult = { ops: Record<string, { ms: number; tflops: number }> };
const oursOps = lastJson<OpsResult>(values["ours-ops"]), torchOps = lastJson<OpsResult>(values["torch-ops"]);
const opRatios: Record<string, number | null> = {};
if (oursOps && torchOps) {
  console.log(`\n${"op".padEnd(34)}${"ours TF/s".padStart(11)}${"torch TF/s".padStart(11)}${"ratio".padStart(8)}`);
  for (const [op, o] of Object.entries(oursOps.ops)) {
    const t = torchOps.ops[op];
    opRatios[op] = ratio(o.tflops, t?.tflops);
    console.log(`${op.padEnd(34)}${fmt(o.tflops).padStart(11)}${fmt(t?.tflops).padStart(11)}${fmt(opRatios[op], 2).padStart(8)}`);
  }
}

const budget = { ours: lastJson<TrainBenchResult>(values["ours-budget"]), torch: lastJson<TrainBenchResult>(values["torch-budget"]) };
const budgetSeconds = values["budget-seconds"] ? Number(values["budget-seconds"]) : null;
if (budget.ours || budget.torch) {
  console.log(`\nval_bpb after ${budgetSeconds} s of training: autoresearch ${fmt(budget.ours?.val_bpb, 4)}, pytorch ${fmt(budget.torch?.val_bpb, 4)}`);
}
const rows = formatRows(
  {
    date: new Date().toISOString().slice(0, 10),
    gpu: values["gpu-file"] && existsSync(values["gpu-file"]) ? readFileSync(values["gpu-file"], "utf8").split(",")[0].trim() : (ours?.device ?? "?"),
    commit: values.commit ?? "?",
    versions: values.versions ?? "?",
    budgetSeconds,
  },
  [
    { impl: "autoresearch", pattern: "L", train: ours ?? budget.ours, valBpb: budget.ours?.val_bpb ?? null },
    { impl: "PyTorch, torch.compile", pattern: "L", train: torch ?? budget.torch, valBpb: budget.torch?.val_bpb ?? null },
    { impl: "autoresearch", pattern: "SSSL", train: sssl, valBpb: null },
  ],
);
if (rows.length) {
  console.log(`\n${rows.join("\n")}`);
  if (values["rows-out"]) writeFileSync(values["rows-out"], `${rows.join("\n")}\n`);
  if (values.results) {
    writeFileSync(values.results, appendToRuns(readFileSync(values.results, "utf8"), rows));
    console.log(`appended ${rows.length} rows to ${values.results}`);
  }
}

console.log(JSON.stringify({
  bench: "gpu",
  device: ours?.device ?? torch?.device ?? null,
  tokens_per_s: ours?.tokens_per_s ?? null,
  tokens_per_s_torch: torch?.tokens_per_s ?? null,
  tokens_per_s_ratio: ratio(ours?.tokens_per_s, torch?.tokens_per_s),
  tokens_per_s_sssl: sssl?.tokens_per_s ?? null,
  mfu_percent: ours?.mfu_percent ?? null,
  step_ms_ratio: ratio(ours?.step_ms, torch?.step_ms),
  peak_vram_ratio: ratio(ours?.peak_vram_mb, torch?.peak_vram_mb),
  gpu_memory_ratio: ratio(smi.ours, smi.torch),
  startup_s: ours?.startup_s ?? null,
  startup_s_torch: torch?.startup_s ?? null,
  val_bpb_delta: budget.ours?.val_bpb != null && budget.torch?.val_bpb != null ? budget.ours.val_bpb - budget.torch.val_bpb : null,
  budget_seconds: budgetSeconds,
  op_ratios: opRatios,
}));
