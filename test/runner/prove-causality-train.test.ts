/** The proof on the real train.ts: its forward pass, traced on the `test` profile, is causal. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import type { TracedGraph } from "../../src/data/trace-export.ts";
import { graphAtBatchSize, proveCausality } from "../../src/runner/prove-causality.ts";
import { REPO } from "../helpers/train-run.ts";
import { traceTrain } from "./prove-causality-trace.ts";

const EMBED = "let x = F.rmsNorm(this.wte.forward(idx));";

let honest: TracedGraph, shifted: TracedGraph, honestDir: string;
const cacheDir = join(mkdtempSync(join(tmpdir(), "ar-prove-")), "cache");

beforeAll(async () => {
  const traces = await Promise.all([
    traceTrain("test"),
    // Each position embeds the next token instead of its own.
    traceTrain("test", { edits: [[EMBED, "let x = F.rmsNorm(this.wte.forward(torch.concat([idx.slice(1, 1, T), idx.slice(1, 0, 1)], 1)));"]] }),
    execa(process.execPath, ["--import", "tsx", "prepare.ts"], { cwd: REPO, env: { AUTORESEARCH_PROFILE: "test", AUTORESEARCH_CACHE_DIR: cacheDir } }),
  ]);
  [{ graph: honest, traceDir: honestDir }, { graph: shifted }] = traces;
}, 120_000);

describe("proveCausality on train.ts", () => {
  it("proves the model's traced forward pass causal, and resizes it to another batch size", () => {
    expect(new Set(honest.nodes.map((n) => n.op))).toContain("attention");
    expect(() => proveCausality(honest)).not.toThrow();
    const [B, T] = honest.inputs.idx.shape;
    const at3 = graphAtBatchSize(honest, 3);
    const reshapes = (g: TracedGraph) => g.nodes.filter((n) => n.op === "reshape").map((n) => (n.attrs as { shape: number[] }).shape);
    expect(reshapes(at3)).toEqual(reshapes(honest).map(([b, ...rest]) => (b === B ? [3, ...rest] : [b, ...rest])));
    expect(at3.nodes.at(-1)!.outputs[0].shape).toEqual([3, T]);
  });

  it("evaluates it: the proof, then the cut test at another batch size, then val_bpb at the traced one", async () => {
    // prepare.ts reads the profile and the cache from the environment when it is first imported.
    Object.assign(process.env, { AUTORESEARCH_PROFILE: "test", AUTORESEARCH_CACHE_DIR: cacheDir });
    const { evaluateTrace } = await import("../../src/runner/evaluate.ts");
    const bpb = await evaluateTrace(honestDir);
    expect(bpb).toBeGreaterThan(1); // an untrained model over 512 tokens
  }, 60_000);

  it("rejects train.ts with its embedding shifted one token ahead, naming the slice", () => {
    expect(() => proveCausality(shifted)).toThrow(/^Cannot prove the graph causal: the loss at position t reads tokens up to position t \+ 1; the look-ahead enters at node \d+ \(slice\)$/);
  });
});
