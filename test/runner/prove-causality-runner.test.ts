/** Attack tests through the real runner: train.ts variants that read ahead are rejected by the proof. */
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { runExperiment } from "../../src/runner/run-experiment.ts";
import { editTrain, makeExperimentRepo, PROJECT, type ExperimentRepo } from "./experiment-repo.ts";

const EMBED = "let x = F.rmsNorm(this.wte.forward(idx));";
let repo: ExperimentRepo, cacheDir: string;

beforeAll(async () => {
  repo = await makeExperimentRepo({ linkBuild: true });
  cacheDir = join(repo.root, "cache");
  await execa(process.execPath, ["--import", "tsx", "prepare.ts"], { cwd: PROJECT, env: { AUTORESEARCH_PROFILE: "test", AUTORESEARCH_CACHE_DIR: cacheDir } });
}, 60_000);

async function run(name: string, edit: string) {
  const head = await repo.commit({ "train.ts": editTrain([[EMBED, `${EMBED}\n    ${edit}`]]) }, name);
  const { result } = await runExperiment({
    harnessDir: repo.harnessDir, repoDir: repo.repoDir, baseSha: repo.baseSha, headSha: head, profile: "test", cacheDir, outDir: join(repo.root, name),
  });
  return result;
}

describe("the runner on train.ts that reads ahead", () => {
  it("rejects each position embedding the next token too, naming the slice", async () => {
    const result = await run("next-token", "x = x.add(torch.concat([x.slice(1, 1, T), x.slice(1, 0, 1)], 1));");
    expect(result).toMatchObject({ status: "rejected", val_bpb: null });
    expect(result.reason).toMatch(/^evaluator: Cannot prove the graph causal: the loss at position t reads tokens up to position t \+ 1; the look-ahead enters at node \d+ \(slice\)$/);
  }, 180_000);

  it("rejects look-ahead at one position of 64, which random cuts would mostly miss", async () => {
    // Position 31 also sees token 32; the test profile's rows are 64 tokens.
    const result = await run("one-position", "x = x.add(torch.concat([x.slice(1, 0, 31).mul(0), x.slice(1, 32, 33), x.slice(1, 32, T).mul(0)], 1));");
    expect(result).toMatchObject({ status: "rejected", val_bpb: null });
    expect(result.reason).toMatch(/^evaluator: Cannot prove the graph causal: the loss at position t reads tokens up to position t \+ 1; the look-ahead enters at node \d+ \(slice\)$/);
  }, 180_000);
});
