import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { exportTrace } from "../../src/data/trace-export.ts";
import { GraphRejectedError } from "../../src/runner/check-graph.ts";
import { PROJECT } from "./experiment-repo.ts";
import { tinyLM } from "./tiny-lm.ts";

const root = mkdtempSync(join(tmpdir(), "ar-evaluate-"));
let prepare: typeof import("../../prepare.ts");
let evaluateTrace: typeof import("../../src/runner/evaluate.ts").evaluateTrace;

beforeAll(async () => {
  // prepare.ts reads the profile and the cache from the environment when it is first imported.
  Object.assign(process.env, { AUTORESEARCH_PROFILE: "test", AUTORESEARCH_CACHE_DIR: join(root, "cache") });
  await execa(process.execPath, ["--import", "tsx", "prepare.ts"], { cwd: PROJECT });
  prepare = await import("../../prepare.ts");
  ({ evaluateTrace } = await import("../../src/runner/evaluate.ts"));
}, 60_000);

let n = 0;
const traceOf = async (model: Parameters<typeof exportTrace>[0], batchSize: number) => {
  const dir = join(root, `trace-${n++}`);
  await exportTrace(model, batchSize, prepare.MAX_SEQ_LEN, dir);
  return dir;
};

describe("evaluateTrace", () => {
  it("equals prepare.ts's evaluateBpb of the same model, in process, within 1e-6", async () => {
    const model = tinyLM(prepare.VOCAB_SIZE, 16);
    const dir = await traceOf(model, 4);
    const reference = await prepare.evaluateBpb(model, 4);
    expect(reference).toBeGreaterThan(1);
    expect(Math.abs((await evaluateTrace(dir)) - reference)).toBeLessThan(1e-6);
  });

  it("rejects a model that reads the next token", async () => {
    const dir = await traceOf(tinyLM(prepare.VOCAB_SIZE, 16, { lookahead: true }), 4);
    await expect(evaluateTrace(dir)).rejects.toThrow(GraphRejectedError);
  });

  it("rejects a model over another vocabulary", async () => {
    const dir = await traceOf(tinyLM(100, 8), 4);
    await expect(evaluateTrace(dir)).rejects.toThrow(`Expected the logits to be floating-point of shape \`[4,64,${prepare.VOCAB_SIZE}]\`, got f32 \`[4,64,100]\``);
  });
});
