import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ProgressDisplay } from "../../src/local/progress-display.ts";

/** A stream that records what is written, as a terminal of `columns` or as a pipe. */
function sink(tty: boolean, columns = 80) {
  const chunks: string[] = [];
  const stream = Object.assign(new Writable({ write: (chunk, _e, cb) => (chunks.push(String(chunk)), cb()) }), { isTTY: tty, columns });
  return { stream, text: () => chunks.join("") };
}

const write = (stream: Writable, text: string) => new Promise<void>((resolve) => stream.write(text, () => resolve()));

describe("ProgressDisplay", () => {
  it("writes only the lines that stay when it is not a terminal", async () => {
    const out = sink(false);
    const display = new ProgressDisplay(out.stream);
    display.line("[1] baseline");
    display.status("[1] starting");
    await write(display.trainingOutput("[1]"), "step 00001 (10.0%) | loss: 5.0\n");
    display.line("[1] val_bpb 1.0");
    expect(out.text()).toBe("[1] baseline\n[1] val_bpb 1.0\n");
  });

  it("keeps one status line under the lines on a terminal: the latest training step, cut to the width", async () => {
    const out = sink(true, 41);
    const display = new ProgressDisplay(out.stream);
    display.line("[1] baseline");
    const training = display.trainingOutput("[1]");
    await write(training, "profile cpu: ...\nstep 00001 (10.0%) | loss: 5.0\nstep 00002 (2");
    await write(training, "0.0%) | loss: 4.5 | remaining: 40s\n");
    display.line("[1] val_bpb 1.0");
    display.status("");
    expect(out.text()).toBe(
      "[1] baseline\n" +
        "[1] step 00001 (10.0%) | loss: 5.0" +
        "\r\x1b[K[1] step 00002 (20.0%) | loss: 4.5 | re…" +
        "\r\x1b[K[1] val_bpb 1.0\n[1] step 00002 (20.0%) | loss: 4.5 | re…" +
        "\r\x1b[K",
    );
  });
});
