import { describeLoad } from "./contention.ts";
import { latestMeasurement, type Experiment } from "./experiment.ts";
import type { Ledger } from "./ledger.ts";

/** What the report shows besides the ledger. */
export interface ReportInput {
  ledger: Ledger;
  /** `null` when running, else why the loop is paused. */
  paused: string | null;
  /** How an experiment is referred to: `#12` on GitHub, the branch name locally. */
  link: (experiment: Experiment) => string;
  /** Points on the chart at most. */
  chartPoints?: number;
}

const bpb = (x: number | null | undefined) => (x == null ? "" : x.toFixed(6));
const signed = (x: number | null | undefined) => (x == null ? "" : (x > 0 ? "+" : x < 0 ? "−" : "") + Math.abs(x).toFixed(6));
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\s+/g, " ");

/** A Mermaid line chart of each judged experiment's val_bpb and of the best kept so far. */
export function renderChart(experiments: readonly Experiment[], points = 100): string {
  const judged = experiments.filter((e) => e.kind === "experiment" && e.decision?.candidate != null).slice(-points);
  if (judged.length < 2) return "_The chart appears after two judged experiments._";
  const values = judged.map((e) => e.decision!.candidate!);
  let best = judged[0]!.decision!.parent ?? values[0]!;
  const bests = judged.map((e, i) => {
    if (e.state === "merged") best = Math.min(best, values[i]!);
    return best;
  });
  const all = [...values, ...bests];
  const pad = (Math.max(...all) - Math.min(...all)) * 0.05 || 0.001;
  const fixed = (xs: number[]) => xs.map((x) => x.toFixed(4)).join(", ");
  return [
    "```mermaid",
    "xychart-beta",
    '  title "val_bpb per experiment (line: best kept)"',
    `  x-axis [${judged.map((e) => e.n).join(", ")}]`,
    `  y-axis "val_bpb" ${(Math.min(...all) - pad).toFixed(4)} --> ${(Math.max(...all) + pad).toFixed(4)}`,
    `  bar [${fixed(values)}]`,
    `  line [${fixed(bests)}]`,
    "```",
  ].join("\n");
}

/**
 * The research report in Markdown: status, runs in flight, the leaderboard of kept
 * changes, counts and the val_bpb chart. The GitHub dashboard and the local loop's
 * report both show it.
 */
export function renderReport({ ledger, paused, link, chartPoints }: ReportInput): string {
  const counts = ledger.counts();
  const sigma = ledger.sigma();
  const inFlight = ledger.experiments.filter((e) => e.state === "open");
  const status = paused === null ? "**Running**" : `**Paused**: ${paused}`;
  const noise = sigma === null ? "not measured yet" : `σ ≈ ${sigma.toPrecision(2)} per run (epoch ${ledger.epoch})`;
  // The load the noise was measured under: the CPU share of this epoch's measured runs.
  const load = describeLoad(ledger.experiments.flatMap((e) => e.measurements.filter((m) => m.epoch === ledger.epoch && m.valBpb !== null)));

  const flightRows = inFlight.map((e) => {
    const latest = latestMeasurement(e);
    const state = e.held ? "on hold" : latest ? `measured ${bpb(latest.valBpb) || latest.status}` : "running";
    return `| ${link(e)} | ${e.kind} | ${cell(e.title)} | ${state} |`;
  });
  const board = ledger.leaderboard().map((e, i) => `| ${i + 1} | ${link(e)} | ${cell(e.title)} | ${bpb(e.decision!.candidate)} | ${signed(e.decision!.delta)} |`);

  return [
    "## Status",
    "",
    `${status}. Noise: ${noise}${load ? `, ${load}` : ""}.`,
    "",
    `## In flight (${inFlight.length})`,
    "",
    ...(flightRows.length ? ["| | kind | title | state |", "|---|---|---|---|", ...flightRows] : ["Nothing in flight."]),
    "",
    "## Leaderboard of kept changes",
    "",
    ...(board.length ? ["| rank | | change | val_bpb | delta |", "|---:|---|---|---:|---:|", ...board] : ["No change kept yet."]),
    "",
    "## Counts",
    "",
    "| kept | discarded | crashed | inconclusive | running |",
    "|---:|---:|---:|---:|---:|",
    `| ${counts.kept} | ${counts.discarded} | ${counts.crashed} | ${counts.inconclusive} | ${counts.running} |`,
    "",
    "## val_bpb over experiments",
    "",
    renderChart(ledger.experiments, chartPoints),
  ].join("\n");
}
