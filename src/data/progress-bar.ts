/** Where progress goes: a TTY gets one line redrawn in place, anything else a line per tenth. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** A one-line progress bar: label, bar, percentage, done/total and rate. */
export class ProgressBar {
  private done = 0;
  private lastDraw = 0;
  private lastTenth = -1;
  private readonly started = performance.now();

  /**
   * @param format how amounts are shown (e.g. as megabytes).
   * @param unit the rate's unit per second, after `format`.
   */
  constructor(
    private readonly label: string,
    private total: number,
    private readonly stream: ProgressStream = process.stderr,
    private readonly format: (amount: number) => string = String,
    private readonly unit = "",
  ) {}

  /** Change the total, for work whose size is learnt on the way. */
  setTotal(total: number): void {
    this.total = total;
  }

  /** Add `amount` to what is done. */
  advance(amount: number): void {
    this.update(this.done + amount);
  }

  /** Set what is done. */
  update(done: number): void {
    this.done = done;
    const now = performance.now();
    if (this.stream.isTTY) {
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.line()}`);
    } else {
      const tenth = Math.floor((10 * done) / Math.max(this.total, 1));
      if (tenth === this.lastTenth || tenth >= 10) return;
      this.lastTenth = tenth;
      this.stream.write(`${this.line()}\n`);
    }
  }

  /** Draw the final state and end the line. */
  finish(): void {
    this.stream.write(`${this.stream.isTTY ? "\r" : ""}${this.line()}\n`);
  }

  private line(): string {
    const fraction = this.total > 0 ? Math.min(this.done / this.total, 1) : 1;
    const width = 24;
    const filled = Math.round(fraction * width);
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.format(this.done / seconds) : "-";
    const percent = `${(100 * fraction).toFixed(0)}%`.padStart(4);
    return `${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${percent} ${this.format(this.done)}/${this.format(this.total)} ${rate}${this.unit}/s`;
  }
}

/** Bytes as megabytes with one decimal, e.g. `12.3 MB`. */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
