import { describe, expect, it } from "vitest";
import { describeLoad, formatCpuShare, underContention } from "../../src/research/contention.ts";

describe("contention", () => {
  it("flags a run that got less than half its CPUs, and not one under the wall clock", () => {
    expect(underContention({ cpuShare: 0.49 })).toBe(true);
    expect(underContention({ cpuShare: 0.5 })).toBe(false);
    expect(underContention({ cpuShare: null })).toBe(false);
    expect(underContention({})).toBe(false);
    expect(formatCpuShare(0.934)).toBe("0.93");
    expect(formatCpuShare(0.42)).toBe("0.42 (heavy contention)");
  });

  it("describes the load as the median share and the count of contended runs", () => {
    expect(describeLoad([{ cpuShare: 0.9 }, { cpuShare: 0.3 }, { cpuShare: 0.8 }, { cpuShare: null }])).toBe(
      "measured at a median CPU share of 0.80 over 3 runs, 1 under heavy contention (share < 0.5)",
    );
    expect(describeLoad([{ cpuShare: 0.9 }, { cpuShare: 0.7 }])).toBe("measured at a median CPU share of 0.80 over 2 runs");
    expect(describeLoad([{ cpuShare: 0.95 }])).toBe("measured at a median CPU share of 0.95 over 1 run");
    expect(describeLoad([{ cpuShare: null }, {}])).toBeNull();
  });
});
