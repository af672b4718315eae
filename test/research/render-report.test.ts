import { describe, expect, it } from "vitest";
import { judge } from "../../src/research/judge.ts";
import { Ledger } from "../../src/research/ledger.ts";
import { renderChart, renderReport } from "../../src/research/render-report.ts";
import { DEFAULT_CONFIG } from "../../src/research/research-config.ts";
import { baseline, experiment, measurement } from "./make-experiment.ts";

const head = { sha: "p0", tree: "t0" };
const judged = (n: number, value: number, parent: number, state: "merged" | "closed") =>
  experiment(n, {
    state,
    outcome: state === "merged" ? "improved" : "regressed",
    decision: judge({ candidate: [value], parent: [parent], sigma: 0.001, freedom: 2, rule: DEFAULT_CONFIG.noise }),
    measurements: [measurement(`h${n}`, `t${n}`, value)],
  });

describe("renderReport", () => {
  const experiments = [
    ...baseline(100, head, [1.0, 1.002]),
    judged(1, 0.99, 1.001, "merged"),
    judged(2, 0.995, 0.99, "closed"),
    judged(3, 0.98, 0.99, "merged"),
    experiment(4, { title: "Running | piped" }),
    experiment(5, { held: true, measurements: [measurement("h5", "t5", 0.97)] }),
  ];
  const report = renderReport({ ledger: new Ledger(experiments, 0), paused: null, link: (e) => `#${e.n}` });

  it("shows the status and noise, the runs in flight, the leaderboard and the counts", () => {
    expect(report).toContain("**Running**. Noise: σ ≈ 0.0014 per run (epoch 0).");
    expect(report).toContain("## In flight (2)\n\n| | kind | title | state |\n|---|---|---|---|\n| #4 | experiment | Running \\| piped | running |\n| #5 | experiment | Experiment 5 | on hold |");
    expect(report).toContain("| 1 | #3 | Experiment 3 | 0.980000 | −0.010000 |\n| 2 | #1 | Experiment 1 | 0.990000 | −0.011000 |");
    expect(report).toContain("| kept | discarded | crashed | inconclusive | running |\n|---:|---:|---:|---:|---:|\n| 2 | 1 | 0 | 0 | 2 |");
    expect(renderReport({ ledger: new Ledger([], 0), paused: "paused by @alice", link: () => "" })).toContain("**Paused**: paused by @alice. Noise: not measured yet.");
  });

  it("states the load the noise was measured under, from the CPU share of the epoch's runs", () => {
    const shares = [0.92, 0.4, 0.88];
    const loaded = experiments.map((e, i) => ({ ...e, measurements: e.measurements.map((m) => ({ ...m, cpuShare: shares[i % 3] })) }));
    expect(renderReport({ ledger: new Ledger(loaded, 0), paused: null, link: (e) => `#${e.n}` })).toContain(
      "Noise: σ ≈ 0.0014 per run (epoch 0), measured at a median CPU share of 0.90 over 6 runs, 2 under heavy contention (share < 0.5).",
    );
  });

  it("charts each judged experiment and the best kept value as Mermaid", () => {
    expect(renderChart(experiments)).toBe(
      [
        "```mermaid",
        "xychart-beta",
        '  title "val_bpb per experiment (line: best kept)"',
        "  x-axis [1, 2, 3]",
        '  y-axis "val_bpb" 0.9792 --> 0.9958', // 5% margin around 0.98 .. 0.995
        "  bar [0.9900, 0.9950, 0.9800]",
        "  line [0.9900, 0.9900, 0.9800]",
        "```",
      ].join("\n"),
    );
    expect(renderChart(experiments.slice(0, 3))).toBe("_The chart appears after two judged experiments._");
  });
});
