/**
 * The runner's command line, run with tsx from the harness checkout (the base commit):
 *
 *   node --import tsx src/runner/cli.ts run --repo DIR --base SHA --head SHA --out DIR
 *       [--profile NAME] [--cache-dir DIR] [--source DIR|URL] [--startup-allowance S]
 *       [--memory-limit-mb N] [--heap-mb N] [--keep-run-dir] [--no-sandbox]
 *   node --import tsx src/runner/cli.ts evaluate --trace DIR
 *
 * `run` trains inside the bwrap sandbox and refuses to train where there is none, unless
 * `--no-sandbox` opts out (every result then carries a warning). It shows the training output
 * and prints `{"status", "val_bpb", "resultPath", "logPath", "timings"}` as its last line.
 * `evaluate` takes the profile and data from the environment (AUTORESEARCH_PROFILE,
 * AUTORESEARCH_CACHE_DIR, AUTORESEARCH_DATA) and prints one JSON line:
 * `{"status":"ok","val_bpb":..}`, or `{"status":"rejected"|"crash","reason":..}` and exits 1.
 */
import { fileURLToPath } from "node:url";
import { isMainModule } from "../data/is-main-module.ts";
import { parseArgs } from "node:util";

const [command, ...rest] = process.argv.slice(2);

/** A positive number from a flag, or undefined when the flag is absent. */
function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new Error(`Expected \`--${name}\` to be a number > 0, got \`${value}\``);
  return n;
}

function required(name: string, value: string | undefined): string {
  if (!value) throw new Error(`Expected \`--${name}\`, got nothing`);
  return value;
}

async function run(): Promise<void> {
  const text = { type: "string" } as const;
  const { values } = parseArgs({
    args: rest,
    options: {
      repo: text, base: text, head: text, out: text, profile: text, "cache-dir": text, source: text,
      "startup-allowance": text, "memory-limit-mb": text, "heap-mb": text, "keep-run-dir": { type: "boolean" }, "no-sandbox": { type: "boolean" },
    },
  });
  const str = (name: Exclude<keyof typeof values, "keep-run-dir" | "no-sandbox">) => values[name];
  const { runExperiment } = await import("./run-experiment.ts");
  const run = await runExperiment({
    harnessDir: fileURLToPath(new URL("../..", import.meta.url)),
    repoDir: required("repo", str("repo")),
    baseSha: required("base", str("base")),
    headSha: required("head", str("head")),
    outDir: required("out", str("out")),
    profile: str("profile") ?? process.env.AUTORESEARCH_PROFILE ?? "default",
    cacheDir: str("cache-dir"),
    dataSource: str("source"),
    startupAllowanceSeconds: positive("startup-allowance", str("startup-allowance")),
    memoryLimitMb: positive("memory-limit-mb", str("memory-limit-mb")),
    heapMb: positive("heap-mb", str("heap-mb")),
    keepRunDir: values["keep-run-dir"] === true,
    noSandbox: values["no-sandbox"] === true,
    echo: process.stdout,
  });
  const { result, resultPath, logPath, timings } = run;
  for (const warning of result.warnings ?? []) console.error(`\nrunner: warning: ${warning}`);
  console.log(`\n${JSON.stringify({ status: result.status, val_bpb: result.val_bpb, resultPath, logPath, timings })}`);
}

async function evaluate(): Promise<void> {
  const { values } = parseArgs({ args: rest, options: { trace: { type: "string" } } });
  const trace = required("trace", values.trace);
  const [{ evaluateTrace }, { GraphRejectedError }] = await Promise.all([import("./evaluate.ts"), import("./check-graph.ts")]);
  try {
    console.log(JSON.stringify({ status: "ok", val_bpb: await evaluateTrace(trace) }));
  } catch (error) {
    console.error((error as Error).stack);
    const status = error instanceof GraphRejectedError ? "rejected" : "crash";
    console.log(JSON.stringify({ status, reason: (error as Error).message }));
    process.exitCode = 1;
  }
}

const commands: Record<string, () => Promise<void>> = { run, evaluate };
// Runs only as the program, so importing this file (a test, a tool) starts nothing.
if (isMainModule(import.meta.url)) {
  if (!Object.hasOwn(commands, command ?? "")) {
    console.error(`Expected a command, \`run\` or \`evaluate\`, got \`${command ?? ""}\``);
    process.exitCode = 2;
  } else {
    await commands[command]().catch((error: Error) => {
      console.error(`runner: ${error.message}`);
      process.exitCode = 1;
    });
  }
}
