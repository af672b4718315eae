import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { logExcerpt, runTrainProcess, type TrainProcessOptions } from "../../src/runner/train-process.ts";
import { groupAlive } from "../helpers/group-alive.ts";

const dir = mkdtempSync(join(tmpdir(), "ar-train-process-"));
let n = 0;

/** Runs `code` (a Node script) under the runner's process control. */
function runScript(code: string, options: Partial<TrainProcessOptions> = {}) {
  const logPath = join(dir, `log-${n++}.txt`);
  return runTrainProcess({ args: ["-e", code], cwd: dir, env: { PATH: process.env.PATH! }, logPath, timeoutSeconds: 60, heapMb: 256, memoryLimitMb: 64, ...options })
    .then((result) => ({ ...result, log: readFileSync(logPath, "utf8") }));
}

/** Whether `pid` is still running (a zombie waiting to be reaped counts as gone), after up to 5 s for it to die. */
async function stillRunning(pid: number): Promise<boolean> {
  const running = () => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 50 && running(); i++) await new Promise((r) => setTimeout(r, 100));
  return running();
}

/** A script that starts `sleep` (in its own group), says so, and then waits forever. */
const SLEEPER = "const c = require('node:child_process').spawn('sleep', ['1000']); console.log(`group ${process.pid} child ${c.pid} ready`); setInterval(() => {}, 1000);";

/** Runs `code` and aborts it once it has printed `ready`. */
async function runAborted(code: string, options: Partial<TrainProcessOptions> = {}) {
  const controller = new AbortController();
  const echo = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (chunk.toString().includes("ready")) controller.abort();
      done();
    },
  });
  return runScript(code, { echo, signal: controller.signal, ...options });
}

describe("runTrainProcess", () => {
  it("reports the exit code and logs stdout and stderr after the header", async () => {
    const run = await runScript("console.log('out line'); console.error('err line'); process.exitCode = 3", { header: ["[runner] hello"] });
    expect([run.exitCode, run.signal, run.timedOut]).toEqual([3, null, false]);
    expect(run.log.split("\n")[0]).toBe("[runner] hello");
    expect(run.log).toContain("out line\n");
    expect(run.log).toContain("err line\n");
    expect(run.excerpt).toContain("err line");
    expect(run.firstStepSeconds).toBeNull();
  });

  it("gives the child only the environment it is given, plus the limits", async () => {
    const run = await runScript("const v8 = require('node:v8'); console.log(JSON.stringify({ env: process.env, heap: v8.getHeapStatistics().heap_size_limit }))", {
      env: { PATH: process.env.PATH!, ONLY: "this" },
      heapMb: 300,
      memoryLimitMb: 77,
    });
    const { env, heap } = JSON.parse(run.log);
    expect(env).toEqual({ PATH: process.env.PATH, ONLY: "this", AUTORESEARCH_MEMORY_LIMIT_MB: "77" });
    expect(heap / 2 ** 20).toBeGreaterThanOrEqual(300);
    expect(heap / 2 ** 20).toBeLessThan(400);
  });

  it("kills the whole process group at the deadline, children included", async () => {
    const code = "const c = require('node:child_process').spawn('sleep', ['1000']); console.log('child ' + c.pid); for (;;) {}";
    const run = await runScript(code, { timeoutSeconds: 1 });
    expect(run.timedOut).toBe(true);
    expect(run.signal).toBe("SIGKILL");
    const child = Number(/child (\d+)/.exec(run.log)![1]);
    expect(await stillRunning(child)).toBe(false);
    expect(run.log).toContain("[runner] killed after 1 s");
  });

  it("kills what the child left running after it exits", async () => {
    const run = await runScript("const c = require('node:child_process').spawn('sleep', ['1000'], { stdio: 'ignore' }); c.unref(); console.log('child ' + c.pid)");
    expect(run.exitCode).toBe(0);
    expect(await stillRunning(Number(/child (\d+)/.exec(run.log)![1]))).toBe(false);
  });

  it("reports a signal, and notes when the first step was printed", async () => {
    const run = await runScript("console.log('setup'); console.log('step 00000 (0.0%) | loss: 6.2'); process.kill(process.pid, 'SIGSEGV')");
    expect([run.exitCode, run.signal, run.timedOut]).toEqual([null, "SIGSEGV", false]);
    expect(run.firstStepSeconds).toBeGreaterThan(0);
    expect(run.firstStepSeconds).toBeLessThanOrEqual(run.seconds);
  });

  it("cuts the log at maxLogBytes but keeps the end in the excerpt", async () => {
    const run = await runScript("for (let i = 0; i < 2000; i++) console.log('line ' + i); console.log('the end')", { maxLogBytes: 1000 });
    expect(run.log.length).toBeLessThan(1100);
    expect(run.log).toContain("[runner] log cut at 1000 bytes");
    expect(run.excerpt.split("\n").at(-1)).toBe("the end");
  });

  it("on abort, ends the whole process group with SIGTERM", async () => {
    const run = await runAborted(SLEEPER);
    expect([run.aborted, run.timedOut, run.signal]).toEqual([true, false, "SIGTERM"]);
    const [, group, child] = /group (\d+) child (\d+)/.exec(run.log)!.map(Number);
    expect(await stillRunning(child!)).toBe(false);
    expect(await groupAlive(group!)).toBe(false);
    expect(run.log).toContain("[runner] aborted");
  });

  it("on abort, kills a process that ignores SIGTERM after the grace period", async () => {
    const run = await runAborted(`process.on('SIGTERM', () => console.log('ignored')); ${SLEEPER}`, { killGraceSeconds: 0.2 });
    expect([run.aborted, run.signal]).toEqual([true, "SIGKILL"]);
    expect(run.log).toContain("ignored");
    expect(await groupAlive(Number(/group (\d+)/.exec(run.log)![1]))).toBe(false);
  });

  it("refuses to start when the signal is already aborted", async () => {
    await expect(runTrainProcess({ args: [], cwd: dir, env: {}, logPath: join(dir, "x"), timeoutSeconds: 1, heapMb: 1, memoryLimitMb: 1, signal: AbortSignal.abort() })).rejects.toThrow(
      "This operation was aborted",
    );
  });

  it("refuses limits that are not positive", async () => {
    await expect(runTrainProcess({ args: [], cwd: dir, env: {}, logPath: join(dir, "x"), timeoutSeconds: 0, heapMb: 1, memoryLimitMb: 1 })).rejects.toThrow(
      "Expected `timeoutSeconds` to be a number > 0, got `0`",
    );
  });
});

describe("logExcerpt", () => {
  it("keeps the last 40 non-empty lines", () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i}`).join("\n\n");
    expect(logExcerpt(text).split("\n")).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i + 10}`));
  });
});
