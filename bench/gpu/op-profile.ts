/**
 * The op table of a profiled training step (AR_PROFILE_STEPS): milliseconds per step by op, with
 * the device synchronised around each op, and what no op accounts for (optimizer kernels, host
 * work). It says which ops to fuse or speed up next; the step time it implies is not a result.
 */
import { startOpTimer, stopOpTimer, type Device } from "../../src/engine/index.ts";

/** Times the ops of `steps` training steps, starting after `warmupSteps` (cuBLASLt plans, arena growth). */
export function opProfiler(device: Device, warmupSteps: number, steps: number): (stepsDone: number) => void {
  let startedAt = 0;
  return (stepsDone) => {
    if (steps <= 0) return;
    if (stepsDone === warmupSteps) {
      startOpTimer(device);
      startedAt = performance.now();
    } else if (stepsDone === warmupSteps + steps) {
      printProfile(stopOpTimer(), (performance.now() - startedAt) / steps, steps);
    }
  };
}

function printProfile(times: [string, { calls: number; ms: number }][], stepMs: number, steps: number): void {
  const opsMs = times.reduce((s, [, t]) => s + t.ms, 0) / steps;
  console.log(`op profile over ${steps} steps (device synchronised around every op): ${stepMs.toFixed(1)} ms per step`);
  console.log(`${"op".padEnd(28)}${"calls/step".padStart(11)}${"ms/step".padStart(10)}${"share".padStart(8)}`);
  const row = (name: string, calls: string, ms: number) =>
    console.log(`${name.padEnd(28)}${calls.padStart(11)}${ms.toFixed(2).padStart(10)}${`${((100 * ms) / stepMs).toFixed(1)}%`.padStart(8)}`);
  for (const [name, t] of times) row(name, String(t.calls / steps), t.ms / steps);
  row("(outside ops)", "", stepMs - opsMs);
}
