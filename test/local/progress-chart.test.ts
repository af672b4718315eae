import { describe, expect, it } from "vitest";
import type { Experiment } from "../../src/research/experiment.ts";
import type { Decision } from "../../src/research/judge.ts";
import { CHART_SIZE, chartPoints, progressChartSvg, renderPng, runningBest } from "../../src/local/progress-chart.ts";
import { baseline, experiment, judged, measurement } from "../research/make-experiment.ts";

const decision = (candidate: number | null, parent: number, outcome: Decision["outcome"]): Decision => ({
  ...judged([1], [1]), outcome, rerun: false, candidate, parent, delta: candidate === null ? null : candidate - parent, crash: outcome === "crashed" ? "crash: boom" : null,
});

/** A night: two baselines (mean 1.0), a kept 0.98, a baseline of it, a discarded 0.99, a crash, a kept 0.97 and one still running. */
function night(): Experiment[] {
  const done = (n: number, value: number | null, state: "merged" | "closed", outcome: Experiment["outcome"], parent: number) =>
    experiment(n, { state, outcome, measurements: [measurement(`h${n}`, `t${n}`, value)], decision: decision(value, parent, outcome as Decision["outcome"]) });
  return [
    ...baseline(1, { sha: "p0", tree: "t0" }, [1.001, 0.999]),
    done(3, 0.98, "merged", "improved", 1.0),
    ...baseline(4, { sha: "m3", tree: "t3" }, [0.982]),
    done(5, 0.99, "closed", "regressed", 0.981),
    done(6, null, "closed", "crashed", 0.981),
    done(7, 0.97, "merged", "improved", 0.981),
    experiment(8),
  ];
}

describe("the progress chart", () => {
  it("plots finished runs by kind, leaves crashes and running ones out, and steps the best down at each kept gain", () => {
    const { points, crashed } = chartPoints(night());
    expect(points).toEqual([
      { n: 1, value: 1.001, kind: "baseline" },
      { n: 2, value: 0.999, kind: "baseline" },
      { n: 3, value: 0.98, kind: "kept" },
      { n: 4, value: 0.982, kind: "baseline" },
      { n: 5, value: 0.99, kind: "discarded" },
      { n: 7, value: 0.97, kind: "kept" },
    ]);
    expect(crashed).toBe(1);
    // From the first judged parent (the baselines' mean), not from a lucky baseline run.
    expect(runningBest(night())).toEqual([
      { n: 1, value: 1.0 },
      { n: 3, value: 0.98 },
      { n: 7, value: 0.97 },
    ]);
    expect(runningBest([experiment(1)])).toEqual([]);
  });

  it("draws one marker per point in its kind's style, the step line, and the counts", () => {
    const svg = progressChartSvg(night());
    const circles = [...svg.matchAll(/<circle [^>]*>/g)].map((m) => m[0]);
    // Points plus the three legend markers.
    expect(circles.filter((c) => c.includes('fill="#2a9d4a"'))).toHaveLength(2 + 1);
    expect(circles.filter((c) => c.includes('fill="#b8b8b8"'))).toHaveLength(1 + 1);
    expect(circles.filter((c) => c.includes('fill="#ffffff" stroke="#555555"'))).toHaveLength(3 + 1);
    const path = /<path d="([^"]+)"/.exec(svg)![1]!;
    expect(path.match(/[MHV]/g)).toEqual(["M", "H", "V", "H", "V", "H"]);
    expect(svg).toContain("2 kept, 1 discarded, 1 crashed (not shown), 3 baseline runs; val_bpb 1.000000 -&gt; 0.970000");
  });

  it("renders to a PNG of the chart's size, also before anything finished", () => {
    for (const experiments of [night(), [experiment(1)]]) {
      const png = renderPng(progressChartSvg(experiments));
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(png.toString("latin1", 12, 16)).toBe("IHDR");
      expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual(CHART_SIZE);
    }
    expect(progressChartSvg([experiment(1)])).toContain("No finished experiment yet");
  });
});
