import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readBudgetReading } from "../../src/data/budget-reading.ts";
import { BudgetClock, budgetAllowances, budgetClockEnv, wallTimeoutSeconds, type BudgetClockOptions } from "../../src/runner/budget-clock.ts";

/** A clock on fake time: `wall` and `cpu` are set by the test, and nothing ticks by itself. */
function fakeClock(options: Partial<BudgetClockOptions> = {}) {
  const time = { wall: 0, cpu: 0 };
  const stops: string[] = [];
  const file = join(mkdtempSync(join(tmpdir(), "ar-budget-")), "reading.json");
  const clock = new BudgetClock({
    kind: "cpu", budgetSeconds: 60, threads: 2, file, tickMs: 2 ** 30,
    wallSeconds: () => time.wall, cpuOf: () => () => time.cpu, ...options,
  });
  clocks.push(clock);
  clock.start(1234, (reason) => stops.push(reason));
  const step = (n: number) => clock.output(Buffer.from(`step ${String(n).padStart(5, "0")} (0.0%) | loss: 1.0\n`));
  /** Moves both clocks: `seconds` of wall time during which the run used `share` of each thread. */
  const run = (seconds: number, share = 1) => {
    time.wall += seconds;
    time.cpu += seconds * share * (options.threads ?? 2);
  };
  return { clock, time, stops, file, step, run, read: () => readBudgetReading(file).seconds };
}

const clocks: BudgetClock[] = [];
afterEach(() => {
  for (const clock of clocks.splice(0)) clock.end();
});

describe("BudgetClock", () => {
  it("publishes 0 until the first step line, then the run's CPU seconds per thread since that line", () => {
    const { clock, step, run, read } = fakeClock();
    expect(read()).toBe(0);
    run(1.5); // setup and step 0
    clock.tick();
    expect(read()).toBe(0);
    step(0);
    run(10, 0.5); // 10 s of wall time at half of each of the 2 threads: 5 budget seconds
    clock.tick();
    expect(read()).toBeCloseTo(5, 9);
  });

  it("counts wall seconds under the wall clock, whatever the CPU did", () => {
    const { clock, step, run, read } = fakeClock({ kind: "wall" });
    step(0);
    run(7, 0.1);
    clock.tick();
    expect(read()).toBeCloseTo(7, 9);
    expect(clock.report().cpuShare).toBeNull();
  });

  it("starts the clock after the setup allowance when no step line came", () => {
    const { setup } = budgetAllowances(60);
    const { clock, run, read } = fakeClock();
    run(setup - 0.1);
    clock.tick();
    expect(read()).toBe(0);
    run(0.2);
    clock.tick(); // the clock starts here
    run(3);
    clock.tick();
    expect(read()).toBeCloseTo(3, 9);
  });

  it("stops a run that reads more than TIME_BUDGET + two of its steps + the tolerance, and not before", () => {
    const { tolerance } = budgetAllowances(60);
    const { clock, step, run, stops } = fakeClock();
    step(0);
    for (let n = 1; n <= 120; n++) {
      run(0.5);
      step(n);
    }
    // 60 s read; the longest step was 0.5 s.
    run(1 + tolerance - 0.05);
    clock.tick();
    expect(stops).toEqual([]);
    run(0.1);
    clock.tick();
    expect(stops).toEqual([`budget: trained past TIME_BUDGET: the cpu clock read ${(61.05 + tolerance).toFixed(1)} s, over TIME_BUDGET 60 s + 2 steps of 0.50 s + ${tolerance.toFixed(1)} s tolerance`]);
    expect(clock.report().stopped).toBe(stops[0]);
  });

  it("grants no step longer than 2.5% of the budget, however far apart the step lines", () => {
    const { step: maxStep, tolerance } = budgetAllowances(60);
    const { clock, step, run, stops } = fakeClock();
    step(0);
    run(59);
    step(1); // a 59 s "step"
    run(1 + 2 * maxStep + tolerance + 0.1);
    clock.tick();
    expect(clock.limit()).toBeCloseTo(60 + 2 * maxStep + tolerance, 9);
    expect(stops).toHaveLength(1);
  });

  it("reports the training at the last step line and the CPU share over it", () => {
    const { clock, step, run } = fakeClock({ threads: 4 });
    run(2);
    step(0);
    run(10, 0.8);
    step(1);
    run(10, 0.6);
    step(2);
    run(3, 0.1); // the hand-over, after the last step
    clock.tick();
    const report = clock.report();
    expect(report.trainingSeconds).toBeCloseTo(8 + 6, 9);
    expect(report.cpuShare).toBeCloseTo(0.7, 9);
    expect(report).toMatchObject({ clock: "cpu", stopped: null });
  });

  it("finds step lines split across chunks, after carriage returns, and on stderr's chunks alike", () => {
    const { clock, run } = fakeClock();
    clock.output(Buffer.from("loading...\nst"));
    clock.output(Buffer.from("ep 00000 | loss 3\r"));
    run(1);
    clock.output(Buffer.from("step 00001 | loss 2\rnot a step 00002\n"));
    run(1);
    clock.output(Buffer.from("step 00002\n"));
    expect(clock.report().trainingSeconds).toBeCloseTo(2, 9);
  });

  it("refuses a budget or thread count it cannot divide by", () => {
    const file = join(mkdtempSync(join(tmpdir(), "ar-budget-")), "reading.json");
    expect(() => new BudgetClock({ kind: "cpu", budgetSeconds: 0, threads: 2, file })).toThrow("Expected `budgetSeconds` to be a number > 0, got `0`");
    expect(() => new BudgetClock({ kind: "cpu", budgetSeconds: 5, threads: 1.5, file })).toThrow("Expected `threads` to be an integer > 0, got `1.5`");
  });
});

describe("the clock's settings", () => {
  it("tells OpenMP not to spin under the CPU clock, and leaves the wall clock's runs alone", () => {
    expect(budgetClockEnv("cpu", 3)).toEqual({ OMP_NUM_THREADS: "3", OMP_WAIT_POLICY: "passive", GOMP_SPINCOUNT: "0" });
    expect(budgetClockEnv("wall", 3)).toEqual({});
  });

  it("gives a CPU-clock run four budgets of wall time before the hung-run kill", () => {
    expect(wallTimeoutSeconds("wall", 300, 120)).toBe(420);
    expect(wallTimeoutSeconds("cpu", 60, 120)).toBe(360);
  });

  it("writes the reading whole, as JSON", () => {
    const { file } = fakeClock();
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ clock: "cpu", seconds: 0 });
  });
});
