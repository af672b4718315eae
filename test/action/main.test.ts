/**
 * The action's entry (action/dist/index.js, as a runner starts it) on the test profile, against
 * a temporary repository with a base commit and one pull-request commit per train.ts variant.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadTrace } from "../../src/runner/load-trace.ts";
import type { Result } from "../../src/runner/result.ts";
import { TRAIN_PROFILE_OVERRIDES } from "../../src/runner/train-profiles.ts";
import { editTrain, makeExperimentRepo, PROJECT, type ExperimentRepo } from "../runner/experiment-repo.ts";
import { runActionEntry, warmCaches, type ActionRun } from "./action-entry.ts";

const FAKE = "0.123456";

/** train.ts variants: the edits and, for variants that edit more, the other files. */
const VARIANTS: Record<string, Record<string, string>> = {
  honest: { "train.ts": editTrain([["// Hyperparameters (edit these directly)", "// Hyperparameters (edit these directly; an honest run)"]]) },
  fakeValBpb: {
    "train.ts": editTrain([["reportResults({\n  val_bpb,", `console.log("val_bpb:          ${FAKE}");\nreportResults({\n  val_bpb: ${FAKE},`]]),
  },
  readsValidation: {
    "train.ts": editTrain([["const tokenizer = await loadTokenizer();", `const tokenizer = await loadTokenizer();\nfor await (const b of makeDataloader(tokenizer, 1, 8, "val")) console.log(b.inputs);`]]),
  },
  readsCacheWithFs: {
    "train.ts": editTrain([['} from "./prepare.ts";', '} from "./prepare.ts";\nimport { readdirSync } from "node:fs";\nconsole.log(readdirSync("/root/.cache/autoresearch"));']]),
  },
  importsChildProcess: { "train.ts": editTrain([['} from "./prepare.ts";', '} from "./prepare.ts";\nimport { execSync } from "child_process";\nexecSync("ls");']]) },
  usesProcessEnv: { "train.ts": editTrain([["const t_start = performance.now();", "const t_start = performance.now();\nconsole.log(process.env.AUTORESEARCH_CACHE_DIR);"]]) },
  editsPrepare: {
    "train.ts": editTrain([["// Hyperparameters (edit these directly)", "// Hyperparameters (edit these directly; and prepare.ts)"]]),
    "prepare.ts": readFileSync(join(PROJECT, "prepare.ts"), "utf8").replace("export const EVAL_TOKENS", "export const EVAL_TOKENS_UNUSED = 0;\nexport const EVAL_TOKENS"),
  },
  sleepsPastBudget: { "train.ts": editTrain([["  torch.resetArena();", "  torch.resetArena();\n  if (step === 3) await new Promise((resolve) => setTimeout(resolve, 1e9));"]]) },
  busyLoops: { "train.ts": editTrain([["  torch.resetArena();", "  torch.resetArena();\n  while (step === 3) Math.sqrt(step);"]]) },
  producesNaN: { "train.ts": editTrain([["train_loss += loss.item();", "train_loss += step === 3 ? NaN : loss.item();"]]) },
  throws: { "train.ts": editTrain([["  torch.resetArena();", '  torch.resetArena();\n  if (step === 2) throw new Error("boom at step 2");']]) },
  exhaustsEngineMemory: {
    "train.ts": editTrain([["const tokenizer = await loadTokenizer();", "const tokenizer = await loadTokenizer();\nconst hoard: Tensor[] = [];\nfor (;;) hoard.push(torch.persistent(() => torch.zeros([1 << 20])));"]]),
  },
  exhaustsHeap: {
    "train.ts": editTrain([["const tokenizer = await loadTokenizer();", "const tokenizer = await loadTokenizer();\nconst hoard: number[][] = [];\nfor (;;) hoard.push(new Array(1 << 20).fill(1.5));"]]),
  },
  readsAhead: {
    "train.ts": editTrain([[
      "let x = F.rmsNorm(this.wte.forward(idx));",
      "let x = F.rmsNorm(this.wte.forward(idx).add(this.wte.forward(torch.concat([idx.slice(1, 1, T), idx.slice(1, 0, 1)], 1))));",
    ]]),
  },
};

let repo: ExperimentRepo;
let cacheDir: string;
const heads: Record<string, string> = {};

beforeAll(async () => {
  repo = await makeExperimentRepo({ linkBuild: false });
  cacheDir = join(repo.root, "cache");
  await warmCaches(repo, cacheDir, ["test"]);
  for (const [name, files] of Object.entries(VARIANTS)) heads[name] = await repo.commit(files, `experiment: ${name}`);
}, 120_000);

const runAction = (variant: string, inputs: Record<string, string> = {}) =>
  runActionEntry(repo, join(repo.root, "runs", variant), { "head-sha": heads[variant], profile: "test", "cache-dir": cacheDir, ...inputs });

/** The GPT class of this project's train.ts, loaded without running the training script below it. */
async function importGpt(): Promise<new (config: object, device: "cpu") => import("../../prepare.ts").LossModel & { namedParameters(): [string, import("../../src/engine/index.ts").Tensor][] }> {
  const source = readFileSync(join(PROJECT, "train.ts"), "utf8");
  const lines = source.split("\n");
  const cut = lines.findIndex((line) => line.startsWith("// Hyperparameters")) - 1;
  const file = join(PROJECT, `.train-gpt-${process.pid}.ts`); // ignored by git
  writeFileSync(file, `${lines.slice(0, cut).join("\n")}\nexport { GPT };\n`);
  try {
    return (await import(file)).GPT;
  } finally {
    rmSync(file);
  }
}

function expectStatus(run: ActionRun, status: Result["status"]): void {
  expect(run.result.status, run.output.slice(-3000)).toBe(status);
  expect(run.outputs.status).toBe(status);
  expect(run.outputs["result-dir"]).toBe(run.resultDir);
  expect(run.exitCode).toBe(status === "ok" ? 0 : 1);
  expect(run.summary).toContain(`| status | \`${status}\` |`);
  if (status !== "ok") expect(run.result.val_bpb).toBeNull();
  expect(run.resultText).not.toContain(FAKE);
  expect(readFileSync(join(run.resultDir, "train.log"), "utf8").length).toBeGreaterThan(0);
}

// Each test starts the action and its processes; several run at once, so each may take a while.
describe.concurrent("the action on the test profile", { timeout: 180_000 }, () => {
  it("honest: ok, with the evaluator's val_bpb, equal to evaluateBpb in process on the same weights", async () => {
    const run = await runAction("honest", { "keep-run-dir": "true" });
    expectStatus(run, "ok");
    const { result } = run;
    expect(result.val_bpb).toBeGreaterThan(0);
    expect(run.outputs["val-bpb"]).toBe(String(result.val_bpb));
    expect(result.reported_val_bpb).toBeNull();
    expect([result.base_sha, result.head_sha, result.profile, result.seed, result.depth]).toEqual([repo.baseSha, heads.honest, "test", 42, 2]);
    expect(result.num_steps).toBeGreaterThan(10);
    expect(result.loss_curve).toHaveLength(result.num_steps);
    expect(run.summary).toContain("xychart-beta");

    // The same weights, evaluated in this process by prepare.ts's own evaluateBpb.
    Object.assign(process.env, { AUTORESEARCH_PROFILE: "test", AUTORESEARCH_CACHE_DIR: cacheDir });
    const prepare = await import("../../prepare.ts");
    const torch = await import("../../src/engine/index.ts");
    const GPT = await importGpt();
    const o = TRAIN_PROFILE_OVERRIDES.test;
    const [depth, aspect, headDim] = [o.DEPTH, o.ASPECT_RATIO, o.HEAD_DIM].map(Number);
    const dim = Math.ceil((depth * aspect) / headDim) * headDim;
    const windowPattern = /const WINDOW_PATTERN = "(\w+)"/.exec(readFileSync(join(PROJECT, "train.ts"), "utf8"))![1];
    const model = torch.persistent(() => new GPT({ sequenceLen: prepare.MAX_SEQ_LEN, vocabSize: prepare.VOCAB_SIZE, nLayer: depth, nHead: dim / headDim, nEmbd: dim, windowPattern }, "cpu"));
    const runDir = readdirSync(run.resultDir).find((name) => name.startsWith(".run-"))!;
    // The runner moved the trace out of the run's writable out/ into evaluate/ before evaluating it.
    const trace = await loadTrace(join(run.resultDir, runDir, "evaluate"), { vocabSize: prepare.VOCAB_SIZE, seqLen: prepare.MAX_SEQ_LEN });
    const params = model.namedParameters();
    expect(params.length).toBeGreaterThan(5);
    for (const [name, param] of params) param.upload(trace.constants.get(trace.graph.constants.find((c) => c.name === name)!.id)!);
    const inProcess = await prepare.evaluateBpb(model, trace.graph.inputs.idx.shape[0]);
    expect(Math.abs(inProcess - result.val_bpb!)).toBeLessThan(1e-6);
  });

  it("prints a fake val_bpb: ok, and the fake number is nowhere in result.json", async () => {
    const run = await runAction("fakeValBpb");
    expectStatus(run, "ok");
    expect(run.result.val_bpb).not.toBeCloseTo(Number(FAKE), 3);
    expect(readFileSync(join(run.resultDir, "train.log"), "utf8")).toContain(`val_bpb:          ${FAKE}`);
  });

  it("reads the validation shard: crash, the shard is not there while training", async () => {
    const run = await runAction("readsValidation");
    expectStatus(run, "crash");
    expect(run.result.crash_excerpt).toContain("the validation shard is not available while training");
  });

  it.each([
    ["readsCacheWithFs", "Expected an import of `./prepare.ts` and `./src/engine/index.ts`, got `node:fs`"],
    ["importsChildProcess", "got `child_process`"],
    ["usesProcessEnv", "Expected no use of `process`"],
    ["editsPrepare", "Expected only `train.ts` to change, got a change to `prepare.ts`"],
  ])("%s: rejected before anything runs", async (variant, reason) => {
    const run = await runAction(variant);
    expectStatus(run, "rejected");
    expect(run.result.reason).toContain(reason);
    expect(run.result.num_steps).toBe(0);
    expect(readdirSync(run.resultDir).sort()).toEqual(["result.json", "train.log"]);
  });

  it("sleepsPastBudget: timeout, killed on the wall clock (a hung run spends no CPU budget)", async () => {
    const run = await runAction("sleepsPastBudget", { "startup-allowance": "3" });
    expectStatus(run, "timeout");
    expect(run.result.reason).toMatch(/^killed after \d+ s of wall time: the runner's limit for TIME_BUDGET 5 s .*, with a startup allowance of 3 s$/);
    expect(readFileSync(join(run.resultDir, "train.log"), "utf8")).toMatch(/^\[runner\] killed after \d+ s/m);
  });

  it("busyLoops: rejected, stopped once the runner's CPU clock passes the budget", async () => {
    const run = await runAction("busyLoops", { "startup-allowance": "3" });
    expectStatus(run, "rejected");
    expect(run.result.reason).toMatch(/^budget: trained past TIME_BUDGET/);
    expect(run.result.val_bpb).toBeNull();
  });

  it("produces NaN: crash, FAIL in the excerpt", async () => {
    const run = await runAction("producesNaN");
    expectStatus(run, "crash");
    expect(run.result.reason).toBe("train.ts exited with code 1");
    expect(run.result.crash_excerpt).toMatch(/^FAIL$/m);
  });

  it("throws: crash, with the error in the excerpt", async () => {
    const run = await runAction("throws");
    expectStatus(run, "crash");
    expect(run.result.crash_excerpt).toContain("boom at step 2");
  });

  it("allocates engine memory until it fails: crash at the runner's memory limit", async () => {
    const run = await runAction("exhaustsEngineMemory", { "memory-limit-mb": "256" });
    expectStatus(run, "crash");
    expect(run.result.crash_excerpt).toMatch(/out of memory on cpu: requested 4194304 bytes with \d+ bytes held; the limit is 268435456 bytes \(AUTORESEARCH_MEMORY_LIMIT_MB\)/);
  });

  it("allocates JavaScript memory until it fails: crash at the runner's heap limit", async () => {
    const run = await runAction("exhaustsHeap", { "heap-mb": "128" });
    expectStatus(run, "crash");
    expect(run.result.crash_excerpt).toContain("JavaScript heap out of memory");
  });

  it("reads the next token: rejected by the evaluator's causality check", async () => {
    const run = await runAction("readsAhead");
    expectStatus(run, "rejected");
    expect(run.result.reason).toMatch(/^evaluator: Cannot prove the graph causal: the loss at position t reads tokens up to position t \+ 1/);
  });
});
