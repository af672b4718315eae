import { join } from "node:path";
import { writeFileAtomic } from "../data/write-file-atomic.ts";
import type { Experiment } from "../research/experiment.ts";
import { formatCpuShare } from "../research/contention.ts";
import { Ledger } from "../research/ledger.ts";
import { renderReport } from "../research/render-report.ts";
import { LOCAL_FILES } from "./local-files.ts";
import { progressChartSvg, renderPng, runningBest } from "./progress-chart.ts";
import { resultStatus, valueOf } from "./write-ledger.ts";

/** What {@link writeReport} wrote, and the table for the terminal. */
export interface WrittenReport {
  table: string;
  summary: string;
  reportPath: string;
  chartPath: string;
}

const COLUMNS = ["#", "commit", "val_bpb", "delta", "cpu share", "status", "description"] as const;

/** The lowest CPU share of an experiment's runs, flagged under heavy contention; empty under the wall clock. */
function cpuShareCell(experiment: Experiment): string {
  const shares = experiment.measurements.flatMap((m) => (m.cpuShare == null ? [] : [m.cpuShare]));
  return shares.length ? formatCpuShare(Math.min(...shares)) : "";
}

/** One row per experiment and baseline run, oldest first; `running` for open ones. */
function rows(experiments: readonly Experiment[]): string[][] {
  return [...experiments]
    .sort((a, b) => a.n - b.n)
    .map((e) => {
      const value = valueOf(e);
      const delta = e.decision?.delta;
      const status = e.state === "open" ? "running" : resultStatus(e);
      const description = e.kind === "baseline" ? `baseline: ${e.title}` : e.title;
      return [String(e.n), e.head.sha.slice(0, 7), value === null ? "-" : value.toFixed(6), delta == null ? "" : `${delta > 0 ? "+" : ""}${delta.toFixed(6)}`, cpuShareCell(e), status, description];
    });
}

/** The runs as a plain-text table with aligned columns. */
export function renderTable(experiments: readonly Experiment[]): string {
  const body = rows(experiments);
  if (body.length === 0) return "No experiments yet.";
  const all = [[...COLUMNS], ...body];
  // The description is last and left ragged; the other columns are padded to their widest cell.
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : i === 0 || i === 2 || i === 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ")).join("\n");
}

/** One sentence: how many runs of which kind, and the research branch's val_bpb at the start and now. */
export function summarize(experiments: readonly Experiment[]): string {
  const counts = new Ledger(experiments, 0).counts();
  const baselines = experiments.filter((e) => e.kind === "baseline").length;
  const steps = runningBest(experiments);
  const progress = steps.length ? `; the research branch went from val_bpb ${steps[0]!.value.toFixed(6)} to ${steps.at(-1)!.value.toFixed(6)}` : "";
  return (
    `${counts.kept + counts.discarded + counts.crashed + counts.inconclusive + counts.running} experiments ` +
    `(${counts.kept} kept, ${counts.discarded + counts.inconclusive} discarded, ${counts.crashed} crashed, ${counts.running} running) ` +
    `and ${baselines} baseline runs${progress}.`
  );
}

/**
 * The morning report: `report.md` (summary, chart, the research report with the leaderboard
 * and counts, then every run) and `progress.png` in the work repository, plus the table for
 * the terminal.
 */
export async function writeReport(dir: string, branch: string, experiments: readonly Experiment[], epoch: number): Promise<WrittenReport> {
  const reportPath = join(dir, LOCAL_FILES.report);
  const chartPath = join(dir, LOCAL_FILES.chart);
  await writeFileAtomic(chartPath, renderPng(progressChartSvg(experiments)));
  const summary = summarize(experiments);
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const markdown = [
    `# autoresearch report: \`${branch}\``,
    "",
    summary,
    "",
    `![val_bpb per experiment](${LOCAL_FILES.chart})`,
    "",
    renderReport({ ledger: new Ledger(experiments, epoch), paused: "the local loop is not running", link: (e) => `\`${e.branch}\`` }),
    "",
    "## Every run",
    "",
    `| ${COLUMNS.join(" | ")} |`,
    "|---:|---|---:|---:|---|---|---|",
    ...rows(experiments).map((row) => `| ${row.map(cell).join(" | ")} |`),
    "",
  ].join("\n");
  await writeFileAtomic(reportPath, markdown);
  return { table: renderTable(experiments), summary, reportPath, chartPath };
}
