import { execa } from "execa";
import { CliError, EXIT } from "./cli-error.ts";

/**
 * Runs the harness's `prepare.ts` for `profile` (a runner profile name), showing its output:
 * generates or downloads the shards and trains the tokenizer, into AUTORESEARCH_CACHE_DIR or
 * the default cache. Prepared data is reused, so running it again takes a second.
 *
 * @param args - more flags for prepare.ts (`--source`, `--num-shards`, `--cache-dir`).
 * @throws CliError (exit 5) when it fails.
 */
export async function runPrepare(harnessDir: string, profile: string, args: readonly string[] = []): Promise<void> {
  const run = await execa(process.execPath, ["--import", "tsx", "prepare.ts", "--profile", profile, ...args], {
    cwd: harnessDir,
    stdio: "inherit",
    reject: false,
  });
  if (run.exitCode !== 0) {
    throw new CliError(`Expected \`prepare.ts --profile ${profile}\` to prepare the data, got exit ${run.exitCode ?? run.signal}`, EXIT.run);
  }
}
