import { describe, expect, it } from "vitest";
import { renderTable } from "../../src/local/write-report.ts";
import { experiment, measurement } from "../research/make-experiment.ts";

describe("renderTable", () => {
  it("shows each run's lowest CPU share and flags heavy contention, blank under the wall clock", () => {
    const table = renderTable([
      experiment(1, { state: "closed", outcome: "regressed", measurements: [measurement("h1", "t1", 0.99, { cpuShare: 0.91 }), measurement("h1", "t1", 0.98, { cpuShare: 0.87 })] }),
      experiment(2, { state: "closed", outcome: "regressed", measurements: [measurement("h2", "t2", 0.97, { cpuShare: 0.41 })] }),
      experiment(3, { state: "closed", outcome: "regressed", measurements: [measurement("h3", "t3", 0.96)] }),
    ]).split("\n");
    expect(table[0]).toMatch(/^#\s+commit\s+val_bpb\s+delta\s+cpu share\s+status\s+description$/);
    expect(table[1]).toMatch(/^1 {2}h1 {6}0\.985000 {2}\s*0\.87 +discard {2}Experiment 1$/);
    expect(table[2]).toContain(" 0.41 (heavy contention)  discard  Experiment 2");
    expect(table[3]).toMatch(/0\.960000 {2}\s+discard {2}Experiment 3$/);
  });
});
