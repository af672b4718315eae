import { Resvg } from "@resvg/resvg-js";
import type { Experiment } from "../research/experiment.ts";
import { resultStatus, valueOf } from "./write-ledger.ts";

/** The chart's size in pixels: the PNG has exactly this size. */
export const CHART_SIZE = { width: 1200, height: 600 } as const;

const COLORS = { kept: "#2a9d4a", discarded: "#b8b8b8", baseline: "#555555", best: "#1f7a38", axis: "#444", grid: "#e6e6e6", text: "#222" };
const FONT = "DejaVu Sans, Arial, Helvetica, sans-serif";
const MARGIN = { left: 90, right: 30, top: 70, bottom: 60 };

/** One finished run on the chart: a kept or discarded experiment, or a baseline run of the research head. */
export interface ChartPoint {
  n: number;
  value: number;
  kind: "kept" | "discarded" | "baseline";
}

/** The chart's points: every finished experiment and baseline run with a val_bpb, oldest first, and how many experiments crashed. */
export function chartPoints(experiments: readonly Experiment[]): { points: ChartPoint[]; crashed: number } {
  const finished = experiments.filter((e) => e.state !== "open").sort((a, b) => a.n - b.n);
  const points = finished.flatMap((e): ChartPoint[] => {
    const status = resultStatus(e);
    if (status === "crash") return [];
    return [{ n: e.n, value: valueOf(e)!, kind: e.kind === "baseline" ? "baseline" : status === "keep" ? "kept" : "discarded" }];
  });
  return { points, crashed: finished.filter((e) => e.kind === "experiment" && resultStatus(e) === "crash").length };
}

/**
 * The val_bpb of the research branch over time: the mean of the first baseline runs, then
 * each kept experiment's value where it is lower. Baseline noise does not move it.
 */
export function runningBest(experiments: readonly Experiment[]): Array<{ n: number; value: number }> {
  const finished = experiments.filter((e) => e.state !== "open").sort((a, b) => a.n - b.n);
  const first = finished.find((e) => e.kind === "baseline" && valueOf(e) !== null);
  if (!first) return [];
  const start = finished.find((e) => e.decision?.parent != null)?.decision!.parent ?? valueOf(first)!;
  const steps = [{ n: first.n, value: start }];
  for (const e of finished) {
    const value = e.state === "merged" ? valueOf(e) : null;
    if (value !== null && value < steps.at(-1)!.value) steps.push({ n: e.n, value });
  }
  return steps;
}

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fixed = (x: number) => x.toFixed(1);

/** A tick step of 1, 2 or 5 times a power of ten that gives at most `count` ticks over `span`. */
function tickStep(span: number, count: number): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? 10 * power;
}

/**
 * The progress chart as SVG, like the reference's progress.png: val_bpb of each finished
 * experiment (kept in green, discarded in grey; crashes are counted in the subtitle), the
 * baseline runs as open circles, and the running best as a step line. Lower is better.
 */
export function progressChartSvg(experiments: readonly Experiment[]): string {
  const { width, height } = CHART_SIZE;
  const { points, crashed } = chartPoints(experiments);
  const steps = runningBest(experiments);
  const count = (kind: ChartPoint["kind"]) => points.filter((p) => p.kind === kind).length;
  const subtitle =
    `${count("kept")} kept, ${count("discarded")} discarded, ${crashed} crashed (not shown), ${count("baseline")} baseline runs` +
    (steps.length ? `; val_bpb ${steps[0]!.value.toFixed(6)} -> ${steps.at(-1)!.value.toFixed(6)}` : "");
  const text = (x: number, y: number, body: string, attrs = "") => `<text x="${fixed(x)}" y="${fixed(y)}" ${attrs}>${escape(body)}</text>`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" fill="${COLORS.text}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text(MARGIN.left, 30, "autoresearch: val_bpb per experiment (lower is better)", 'font-size="20" font-weight="bold"'),
    text(MARGIN.left, 54, subtitle, 'font-size="14" fill="#555"'),
  ];
  const plot = { x0: MARGIN.left, x1: width - MARGIN.right, y0: MARGIN.top, y1: height - MARGIN.bottom };
  if (points.length === 0) {
    parts.push(text(width / 2, height / 2, "No finished experiment yet", 'font-size="18" text-anchor="middle"'), "</svg>");
    return parts.join("\n");
  }

  const values = [...points.map((p) => p.value), ...steps.map((s) => s.value)];
  const lowest = Math.min(...values), highest = Math.max(...values);
  const pad = (highest - lowest) * 0.08 || 0.01;
  const [vMin, vMax] = [lowest - pad, highest + pad];
  const [nMin, nMax] = [Math.min(...points.map((p) => p.n)) - 0.5, Math.max(...points.map((p) => p.n)) + 0.5];
  const px = (n: number) => plot.x0 + ((n - nMin) / (nMax - nMin)) * (plot.x1 - plot.x0);
  const py = (v: number) => plot.y1 - ((v - vMin) / (vMax - vMin)) * (plot.y1 - plot.y0);

  const yStep = tickStep(vMax - vMin, 6);
  const decimals = Math.max(0, -Math.floor(Math.log10(yStep)));
  for (let v = Math.ceil(vMin / yStep) * yStep; v <= vMax; v += yStep) {
    parts.push(`<line x1="${plot.x0}" x2="${plot.x1}" y1="${fixed(py(v))}" y2="${fixed(py(v))}" stroke="${COLORS.grid}"/>`);
    parts.push(text(plot.x0 - 8, py(v) + 4, v.toFixed(decimals), 'font-size="12" text-anchor="end"'));
  }
  const xStep = Math.max(1, tickStep(nMax - nMin, 12));
  for (let n = Math.ceil(nMin / xStep) * xStep; n <= nMax; n += xStep) {
    parts.push(text(px(n), plot.y1 + 18, String(n), 'font-size="12" text-anchor="middle"'));
  }
  parts.push(
    `<rect x="${plot.x0}" y="${plot.y0}" width="${plot.x1 - plot.x0}" height="${plot.y1 - plot.y0}" fill="none" stroke="${COLORS.axis}"/>`,
    text((plot.x0 + plot.x1) / 2, height - 16, "experiment #", 'font-size="14" text-anchor="middle"'),
    text(22, (plot.y0 + plot.y1) / 2, "val_bpb", `font-size="14" text-anchor="middle" transform="rotate(-90 22 ${fixed((plot.y0 + plot.y1) / 2)})"`),
  );

  if (steps.length) {
    const path = steps.map((s, i) => (i === 0 ? `M ${fixed(px(s.n))} ${fixed(py(s.value))}` : `H ${fixed(px(s.n))} V ${fixed(py(s.value))}`));
    parts.push(`<path d="${path.join(" ")} H ${fixed(px(nMax - 0.5))}" fill="none" stroke="${COLORS.best}" stroke-width="2"/>`);
  }
  const marker = (kind: ChartPoint["kind"], x: number, y: number) =>
    kind === "baseline"
      ? `<circle cx="${fixed(x)}" cy="${fixed(y)}" r="5" fill="#ffffff" stroke="${COLORS.baseline}" stroke-width="2"/>`
      : `<circle cx="${fixed(x)}" cy="${fixed(y)}" r="6" fill="${COLORS[kind]}" stroke="#ffffff" stroke-width="1.5"/>`;
  const order = { discarded: 0, baseline: 1, kept: 2 };
  for (const p of [...points].sort((a, b) => order[a.kind] - order[b.kind])) parts.push(marker(p.kind, px(p.n), py(p.value)));

  const lx = plot.x1 - 420;
  parts.push(
    marker("kept", lx, 30), text(lx + 12, 35, "kept", 'font-size="13"'),
    marker("discarded", lx + 70, 30), text(lx + 82, 35, "discarded", 'font-size="13"'),
    marker("baseline", lx + 170, 30), text(lx + 182, 35, "baseline run", 'font-size="13"'),
    `<line x1="${lx + 290}" x2="${lx + 320}" y1="30" y2="30" stroke="${COLORS.best}" stroke-width="2"/>`, text(lx + 328, 35, "running best", 'font-size="13"'),
    "</svg>",
  );
  return parts.join("\n");
}

/** Renders an SVG to PNG at its own size, with the system's fonts. */
export function renderPng(svg: string): Buffer {
  return new Resvg(svg, { fitTo: { mode: "original" }, font: { loadSystemFonts: true }, background: "#ffffff" }).render().asPng();
}
