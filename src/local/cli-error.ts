/** The exit codes of the `autoresearch` command, as documented in its help and in the README. */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** An unexpected error (a bug, or git failing). */
  failure: 1,
  /** A bad command, flag or value. */
  usage: 2,
  /** The work repository cannot be used: not a git repository, local changes, files missing. */
  repo: 3,
  /** The LLM agent cannot be reached or keeps failing. */
  agent: 4,
  /** Preparing the data, a baseline run or a `train` run failed. */
  run: 5,
  /** Stopped by Ctrl-C (128 + SIGINT), after the current step. */
  interrupted: 130,
} as const;

/** An error the command line reports as a message (no stack) with its exit code. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
