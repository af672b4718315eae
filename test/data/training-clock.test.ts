import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeBudgetReading } from "../../src/data/budget-reading.ts";
import { trainingClock } from "../../src/data/training-clock.ts";

const burn = (seconds: number) => {
  const until = process.cpuUsage().user / 1e6 + seconds;
  while (process.cpuUsage().user / 1e6 < until);
};

describe("trainingClock", () => {
  it("reads the runner's published reading under the runner", () => {
    const file = join(mkdtempSync(join(tmpdir(), "ar-clock-")), "reading.json");
    writeBudgetReading(file, { clock: "cpu", seconds: 0 });
    const clock = trainingClock("cpu", file, () => 2);
    expect(clock()).toBe(0);
    writeBudgetReading(file, { clock: "cpu", seconds: 12.5 });
    expect(clock()).toBe(12.5);
    writeFileSync(file, "{}");
    expect(() => clock()).toThrow(`Expected the budget reading in ${file} to be {"clock":"wall"|"cpu","seconds":>=0}, got \`{}\``);
  });

  it("alone, counts this process's CPU time per thread from the first call", () => {
    const clock = trainingClock("cpu", undefined, () => 4);
    burn(0.05);
    expect(clock()).toBe(0);
    const before = process.cpuUsage();
    burn(0.2);
    const used = process.cpuUsage(before);
    const seconds = clock();
    expect(seconds).toBeGreaterThanOrEqual((used.user + used.system) / 1e6 / 4);
    expect(seconds).toBeLessThan((used.user + used.system) / 1e6 / 4 + 0.01);
  });

  it("alone, counts wall time from the first call on the wall clock", () => {
    const clock = trainingClock("wall", undefined, () => 4);
    expect(clock()).toBe(0);
    const start = performance.now();
    burn(0.05);
    const elapsed = (performance.now() - start) / 1000;
    expect(clock()).toBeGreaterThanOrEqual(elapsed);
  });
});
