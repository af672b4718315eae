/**
 * Bundles what the GPU host runs into plain JS (it has node but no npm packages): the CUDA op
 * tests under vitest-shim.ts, train.ts as-is with bench-prepare.ts standing in for prepare.ts
 * (once per window pattern), and the op benchmark and comparison scripts.
 *
 *   npx tsx bench/gpu/bundle.ts OUTDIR [--set NAME=VALUE ...]
 *
 * --set changes a `const NAME = ...;` line of train.ts in the train bundles (e.g. DEPTH=2 for a
 * CPU smoke run, or compute_dtype='"bf16"' for the GPU's dtypes on the CPU), the way the agent
 * edits hyperparameters. Each window pattern is also bundled
 * at half the device batch (the same optimizer step in twice the micro-steps), which run.sh
 * falls back to when the full batch runs out of GPU memory; bundle.json records both batches.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build, type Plugin } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const { values, positionals } = parseArgs({ options: { set: { type: "string", multiple: true, default: [] } }, allowPositionals: true });
const outDir = path.resolve(positionals[0] ?? path.join(root, ".device/js"));
const sets = Object.fromEntries(values.set.map((kv) => {
  const eq = kv.indexOf("=");
  if (eq < 1) throw new Error(`Expected --set NAME=VALUE, got \`${kv}\``);
  return [kv.slice(0, eq), kv.slice(eq + 1)];
}));

const common = { bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning" } as const;

/** vitest resolves to the shim, so the test files run unchanged. */
const vitestShim: Plugin = {
  name: "vitest-shim",
  setup: (b) => b.onResolve({ filter: /^vitest$/ }, () => ({ path: path.join(here, "vitest-shim.ts") })),
};

/** train.ts with bench-prepare.ts for prepare.ts and some `const NAME = ...;` lines changed, as the agent would. */
function trainVariant(overrides: Record<string, string>): Plugin {
  const trainTs = path.join(root, "train.ts");
  return {
    name: "train-variant",
    setup: (b) => {
      b.onResolve({ filter: /prepare\.ts$/ }, (args) =>
        args.importer === trainTs ? { path: path.join(here, "bench-prepare.ts") } : undefined);
      b.onLoad({ filter: /[/\\]train\.ts$/ }, () => {
        let source = readFileSync(trainTs, "utf8");
        for (const [name, value] of Object.entries(overrides)) {
          const line = new RegExp(`^const ${name}(: [^=]+)? = .*;`, "m");
          if (!line.test(source)) throw new Error(`Expected train.ts to declare \`const ${name} = ...;\``);
          source = source.replace(line, `const ${name}$1 = ${value};`);
        }
        return { contents: source, loader: "ts" };
      });
    },
  };
}

const tests = readdirSync(path.join(root, "test/engine/cuda")).filter((f) => f.endsWith(".test.ts"));
await build({
  ...common,
  stdin: {
    contents: [...tests.map((f) => `import "./test/engine/cuda/${f}";`), `import { run } from "./bench/gpu/vitest-shim.ts";`,
      "process.exitCode = (await run()) > 0 ? 1 : 0;"].join("\n"),
    resolveDir: root,
    loader: "ts",
  },
  outfile: path.join(outDir, "cuda-tests.mjs"),
  plugins: [vitestShim],
});
const deviceBatch = Number(sets.DEVICE_BATCH_SIZE ?? /^const DEVICE_BATCH_SIZE = (\d+);/m.exec(readFileSync(path.join(root, "train.ts"), "utf8"))?.[1]);
if (!Number.isInteger(deviceBatch) || deviceBatch < 1) throw new Error(`Expected a positive integer DEVICE_BATCH_SIZE, got ${deviceBatch}`);
const halfBatch = Math.max(1, Math.floor(deviceBatch / 2));
for (const pattern of ["L", "SSSL"]) {
  for (const [suffix, batch] of [["", deviceBatch], ["-half", halfBatch]] as const) {
    const plugins = [trainVariant({ ...sets, WINDOW_PATTERN: JSON.stringify(pattern), DEVICE_BATCH_SIZE: String(batch) })];
    await build({ ...common, entryPoints: [path.join(root, "train.ts")], outfile: path.join(outDir, `train-${pattern}${suffix}.mjs`), plugins });
  }
}
writeFileSync(path.join(outDir, "bundle.json"), JSON.stringify({ deviceBatch, halfBatch }));
for (const script of ["ops-bench", "compare"]) {
  await build({ ...common, entryPoints: [path.join(here, `${script}.ts`)], outfile: path.join(outDir, `${script}.mjs`) });
}
console.log(`bundled into ${outDir}: cuda-tests.mjs, train-{L,SSSL}{,-half}.mjs (device batch ${deviceBatch}, ${halfBatch}), ops-bench.mjs, compare.mjs`);
