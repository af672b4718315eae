import type { Repeat } from "../../src/github/repo-lock.ts";

/** A {@link Repeat} whose tasks run only when a test fires them, so nothing depends on time passing. */
export class ManualRepeat {
  readonly #tasks = new Set<{ ms: number; run: () => Promise<void> }>();

  readonly repeat: Repeat = (ms, run) => {
    const task = { ms, run };
    this.#tasks.add(task);
    return () => this.#tasks.delete(task);
  };

  /** The periods of the tasks not yet stopped. */
  get periods(): number[] {
    return [...this.#tasks].map((task) => task.ms);
  }

  /** Runs every task once, as when its period has passed, and waits for what they started. */
  async fire(): Promise<void> {
    await Promise.all([...this.#tasks].map((task) => task.run()));
  }
}
