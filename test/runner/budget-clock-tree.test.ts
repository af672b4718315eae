import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { ProcessTreeCpu } from "../../src/runner/process-tree-cpu.ts";

// A parent that burns CPU on its main thread and on a worker thread and starts a child that
// burns too; each process then prints its own process.cpuUsage() (the independent reference)
// as `cpu <pid> <seconds>` and waits on stdin.
const SCRIPT = `
const { spawn } = require("node:child_process");
const { Worker } = require("node:worker_threads");
const burn = (seconds) => { const until = process.cpuUsage().user / 1e6 + seconds; let x = 0; while (process.cpuUsage().user / 1e6 < until) x += Math.sqrt(x + 1); return x; };
const report = () => { const { user, system } = process.cpuUsage(); console.log("cpu", process.pid, (user + system) / 1e6); };
if (process.argv[1] === "child") {
  burn(0.15);
  report();
} else {
  const child = spawn(process.execPath, ["-e", process.argv[1], "child"], { stdio: ["pipe", "inherit", "inherit"] });
  const worker = new Worker("let x = 0; const t = Date.now(); while (Date.now() - t < 150) x += Math.sqrt(x + 1);", { eval: true });
  burn(0.1);
  worker.on("exit", report);
}
process.stdin.resume();
`;

let parent: ChildProcessWithoutNullStreams | undefined;
afterEach(() => {
  if (parent?.pid) process.kill(-parent.pid, "SIGKILL");
});

/** Starts the tree and waits for both processes' own figures. */
async function startTree(): Promise<{ pid: number; reported: Map<number, number> }> {
  parent = spawn(process.execPath, ["-e", SCRIPT, SCRIPT], { detached: true });
  const reported = new Map<number, number>();
  let text = "";
  parent.stdout.setEncoding("utf8");
  while (reported.size < 2) {
    const [chunk] = (await once(parent.stdout, "data")) as [string];
    text += chunk;
    for (const [, pid, seconds] of text.matchAll(/cpu (\d+) ([\d.]+)/g)) reported.set(Number(pid), Number(seconds));
  }
  return { pid: parent.pid!, reported };
}

describe("ProcessTreeCpu", () => {
  it("sums the CPU time of a process, its threads and its children as each reports its own", async () => {
    const { pid, reported } = await startTree();
    const total = [...reported.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0.3);
    const seconds = new ProcessTreeCpu(pid).seconds();
    // /proc counts in 10 ms ticks per process; a little more CPU may follow each report.
    expect(seconds).toBeGreaterThan(total - 0.05);
    expect(seconds).toBeLessThan(total + 0.25);
  });

  it("keeps the time of a process that has exited", async () => {
    const { pid, reported } = await startTree();
    const tree = new ProcessTreeCpu(pid);
    const before = tree.seconds();
    const child = [...reported.keys()].find((p) => p !== pid)!;
    process.kill(child, "SIGKILL");
    while (existsSync(`/proc/${child}`)) await new Promise((r) => setTimeout(r, 20));
    expect(tree.seconds()).toBeGreaterThanOrEqual(before);
  });

  it("reads 0 for a process that is not there", () => {
    expect(new ProcessTreeCpu(2 ** 22 + 7).seconds()).toBe(0);
  });
});
