import { Writable } from "node:stream";

/** A training output line that reports a step: `step 00042 (35.0%) | loss: ...`. */
const STEP_LINE = /^step \d+ \(/;

/**
 * The live display of the local loop: lines that stay (what happened) and, on a terminal, one
 * status line below them that is rewritten in place (what is happening now). Piped to a
 * file, only the lines that stay are written.
 */
export class ProgressDisplay {
  #status = "";

  constructor(readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number } = process.stdout) {}

  /** Prints a line that stays, above the status line. */
  line(text: string): void {
    this.#clear();
    this.stream.write(`${text}\n`);
    this.#draw();
  }

  /** Replaces the status line (shown on a terminal only); an empty text removes it. */
  status(text: string): void {
    this.#clear();
    this.#status = text;
    this.#draw();
  }

  /**
   * A stream for a run's output that shows its latest `step` line as the status, prefixed
   * with `label`: the step, the progress through the time budget, the loss and the time left.
   */
  trainingOutput(label: string): Writable {
    let partial = "";
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        const lines = (partial + chunk.toString("utf8")).split(/\r?\n|\r/);
        partial = lines.pop() ?? "";
        const step = lines.reverse().find((line) => STEP_LINE.test(line));
        if (step) this.status(`${label} ${step}`);
        callback();
      },
    });
  }

  #clear(): void {
    if (this.stream.isTTY && this.#status) this.stream.write("\r\x1b[K");
  }

  #draw(): void {
    if (!this.stream.isTTY || !this.#status) return;
    const width = Math.max(20, (this.stream.columns ?? 100) - 1);
    this.stream.write(this.#status.length > width ? `${this.#status.slice(0, width - 1)}…` : this.#status);
  }
}
