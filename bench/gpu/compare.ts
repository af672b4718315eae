/**
 * Puts our GPU benchmark results beside PyTorch's from the same run and prints the ratios
 * (issue 5's acceptance figures). Each input is a benchmark's log; its last JSON line counts.
 *
 *   node compare.mjs --ours-train LOG --torch-train LOG [--ours-sssl LOG] [--ours-ops LOG --torch-ops LOG]
 *                    [--smi-ours FILE --smi-torch FILE]   (nvidia-smi memory.used samples, MiB)
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { TrainBenchResult } from "./summarize-steps.ts";

const { values } = parseArgs({
  options: Object.fromEntries(["ours-train", "torch-train", "ours-sssl", "ours-ops", "torch-ops", "smi-ours", "smi-torch"]
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
  val_bpb_delta: ours?.val_bpb != null && torch?.val_bpb != null ? ours.val_bpb - torch.val_bpb : null,
  op_ratios: opRatios,
}));
