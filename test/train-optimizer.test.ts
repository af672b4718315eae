import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as torch from "../src/engine/index.ts";
import type { DType, Device, Tensor } from "../src/engine/index.ts";
import { hasCuda } from "./engine/cuda/compare-devices.ts";
import { FUSED_PRIMITIVES, importTrainModule, replaceOnce, unfusedOptimizer, type ParamGroupLike, type TrainModule } from "./helpers/train-optimizer.ts";
import { REPO } from "./helpers/train-run.ts";

const TRAIN_SOURCE = readFileSync(path.join(REPO, "train.ts"), "utf8");
/** train.ts's Polar Express dtype, so a copy can orthogonalise in f64 like the engine's exact reference. */
const POLAR_DTYPE = 'let X = g.div(g.norm([-2, -1], true).mul(1.02).add(1e-6)).to("bf16");';
const inF64 = (source: string) => replaceOnce(source, POLAR_DTYPE, POLAR_DTYPE.replace('"bf16"', '"f64"'));

// Tall, wide and square matrices (NorMuon's per-row and per-column statistics), plus AdamW tensors.
const MATRIX_SHAPES = [[12, 5], [12, 5], [5, 12], [5, 12], [5, 12], [7, 7]];
const ADAM_SHAPES = [[20, 6], [6], [3]];
const STEPS = 6;

/** Deterministic parameters and per-step gradients, the same for every optimizer under test. */
function makeParams(dtype: DType, device: Device = "cpu"): { matrices: Tensor[]; adam: Tensor[] } {
  torch.manualSeed(7); // the same values on every backend
  const make = (shape: number[]) => torch.persistent(() => torch.randn(shape, { dtype, device }).mul(0.5)).requiresGrad_();
  return { matrices: MATRIX_SHAPES.map(make), adam: ADAM_SHAPES.map(make) };
}

function setGrads(params: Tensor[], step: number): void {
  torch.manualSeed(1000 + step);
  for (const p of params) {
    const g = torch.randn(p.shape, { dtype: p.dtype, device: p.device });
    if (p.grad) p.grad.copy_(g);
    else p.accumulateGrad(g);
  }
}

const byShape = (ps: Tensor[]) => [...new Set(ps.map((p) => p.shape.join("x")))].map((key) => ps.filter((p) => p.shape.join("x") === key));

/** train.ts's optimizer over the test parameters, with the hyperparameter shapes of train.ts's groups. */
function trainOptimizer(mod: TrainModule, { matrices, adam }: ReturnType<typeof makeParams>) {
  const groups: ParamGroupLike[] = [
    { kind: "adamw", params: [adam[0]], lr: 0.02, initialLr: 0.02, betas: [0.8, 0.95], eps: 1e-10, weightDecay: 0 },
    { kind: "adamw", params: [adam[1], adam[2]], lr: 0.05, initialLr: 0.05, betas: [0.96, 0.95], eps: 1e-10, weightDecay: 0.1 },
    ...byShape(matrices).map((params): ParamGroupLike => ({ kind: "muon", params, lr: 0.04, initialLr: 0.04, momentum: 0.85, nsSteps: 5, beta2: 0.95, weightDecay: 0.2 })),
  ];
  return new mod.MuonAdamW(groups);
}

/** The engine's torch.AdamW and torch.Muon with the same groups: the optimizer train.ts used to call. */
function engineOptimizers({ matrices, adam }: ReturnType<typeof makeParams>, polarExpressDtype: DType) {
  return [
    new torch.AdamW([
      { params: [adam[0]], lr: 0.02, betas: [0.8, 0.95], eps: 1e-10, weightDecay: 0 },
      { params: [adam[1], adam[2]], lr: 0.05, betas: [0.96, 0.95], eps: 1e-10, weightDecay: 0.1 },
    ]),
    new torch.Muon(byShape(matrices).map((params) => ({ params, lr: 0.04, momentum: 0.85, weightDecay: 0.2, polarExpressDtype }))),
  ];
}

/** Each step's parameter values, after running `step` STEPS times on fresh parameters. */
function trajectory(dtype: DType, build: (ps: ReturnType<typeof makeParams>) => { step(): void }[], device: Device = "cpu"): number[][][] {
  const ps = makeParams(dtype, device);
  const all = [...ps.matrices, ...ps.adam];
  const optimizers = build(ps);
  const out: number[][][] = [];
  for (let s = 0; s < STEPS; s++) {
    setGrads(all, s);
    for (const opt of optimizers) opt.step();
    torch.resetArena();
    out.push(all.map((p) => Array.from(p.toArray())));
  }
  return out;
}

/** The largest difference between two trajectories relative to how far the parameters moved in them. */
function relativeGap(a: number[][][], b: number[][][], start: number[][]): number {
  let worst = 0;
  a.forEach((stepA, s) => stepA.forEach((pa, i) => {
    const moved = Math.max(...pa.map((v, j) => Math.abs(v - start[i][j])));
    const gap = Math.max(...pa.map((v, j) => Math.abs(v - b[s][i][j])));
    worst = Math.max(worst, gap / moved);
  }));
  return worst;
}

const startValues = (dtype: DType) => {
  const ps = makeParams(dtype);
  return [...ps.matrices, ...ps.adam].map((p) => Array.from(p.toArray()));
};

describe("train.ts's MuonAdamW", () => {
  let fused: TrainModule, fusedF64: TrainModule;
  beforeAll(async () => {
    fused = await importTrainModule(TRAIN_SOURCE);
    fusedF64 = await importTrainModule(inF64(TRAIN_SOURCE));
  });

  it("setupOptimizer makes the reference's groups: AdamW LRs scaled by 1/sqrt(d/768), one Muon group per matrix shape", () => {
    const config = { sequenceLen: 64, vocabSize: 512, nLayer: 2, nHead: 4, nEmbd: 128, windowPattern: "SSSL" };
    const model = new fused.GPT(config, "meta", "f32");
    const opt = model.setupOptimizer({ unembeddingLr: 0.004, embeddingLr: 0.6, scalarLr: 0.5, adamBetas: [0.8, 0.95], matrixLr: 0.04, weightDecay: 0.2 });
    const s = (128 / 768) ** -0.5;
    const summary = opt.paramGroups.map((g) => [g.kind, g.lr, g.kind === "adamw" ? g.betas : g.momentum, g.params.map((p) => p.shape.join("x")).join(" ")]);
    expect(summary).toEqual([
      ["adamw", 0.004 * s, [0.8, 0.95], "512x128"],
      ["adamw", 0.6 * s, [0.8, 0.95], "512x128"],
      ["adamw", 0.6 * s, [0.8, 0.95], "512x128"], // layer 1's value embedding
      ["adamw", 0.5 * 0.01, [0.8, 0.95], "2"],
      ["adamw", 0.5, [0.96, 0.95], "2"],
      ["muon", 0.04, 0.95, "128x128 128x128 128x128 128x128 128x128 128x128 128x128 128x128"],
      ["muon", 0.04, 0.95, "128x512 128x512"],
      ["muon", 0.04, 0.95, "4x32"],
      ["muon", 0.04, 0.95, "512x128 512x128"],
    ]);
    expect(opt.paramGroups.reduce((n, g) => n + g.params.length, 0)).toBe(model.parameters().length);
  });

  it("matches the engine's AdamW and Muon step for step, exactly when Polar Express runs in f64", () => {
    const mine = trajectory("f64", (ps) => [trainOptimizer(fusedF64, ps)]);
    const engine = trajectory("f64", (ps) => engineOptimizers(ps, "f64"));
    expect(relativeGap(mine, engine, startValues("f64"))).toBeLessThan(1e-9);
  });

  it("is as close to exact as the engine's Muon with Polar Express in bf16, as train.ts runs it", () => {
    const mine = trajectory("f32", (ps) => [trainOptimizer(fused, ps)]);
    const engine = trajectory("f32", (ps) => engineOptimizers(ps, "bf16"));
    const exact = trajectory("f32", (ps) => engineOptimizers(ps, "f32"));
    const start = startValues("f32");
    // Both orthogonalise in bf16 but round at different places (a*X + X@B here, X@(aI + bA + cA^2)
    // there), so each is off the fp32 result by bf16's noise (0.125 and 0.140 of the step's size).
    expect(relativeGap(mine, exact, start)).toBeLessThanOrEqual(relativeGap(engine, exact, start) * 1.05);
    expect(relativeGap(mine, exact, start)).toBeLessThan(0.2);
  });

  it.each(FUSED_PRIMITIVES)("gives the same numbers with %s replaced by its plain ops", async (primitive) => {
    const plain = await importTrainModule(inF64(unfusedOptimizer(TRAIN_SOURCE, [primitive])));
    const reference = trajectory("f64", (ps) => [trainOptimizer(fusedF64, ps)]);
    const composed = trajectory("f64", (ps) => [trainOptimizer(plain, ps)]);
    expect(relativeGap(composed, reference, startValues("f64"))).toBeLessThan(1e-9);
  });

  it("runs with every primitive unfused in the GPU's dtypes (bf16 Polar Express, f32 moments for a bf16 embedding)", async () => {
    const plain = await importTrainModule(unfusedOptimizer(TRAIN_SOURCE));
    const reference = trajectory("f32", (ps) => [trainOptimizer(fused, ps)]);
    const composed = trajectory("f32", (ps) => [trainOptimizer(plain, ps)]);
    expect(relativeGap(composed, reference, startValues("f32"))).toBeLessThan(1e-4);
    const embedding = torch.persistent(() => torch.randn([16, 4], { dtype: "bf16" })).requiresGrad_();
    const group: ParamGroupLike = { kind: "adamw", params: [embedding], lr: 0.1, initialLr: 0.1, betas: [0.8, 0.95], eps: 1e-10, weightDecay: 0 };
    const [a, b] = [fused, plain].map((mod) => {
      const p = torch.persistent(() => torch.zeros([16, 4], { dtype: "bf16" }).add(embedding)).requiresGrad_();
      setGrads([p], 0);
      new mod.MuonAdamW([{ ...group, params: [p] }]).step();
      return Array.from(p.toArray());
    });
    // One rounding to bf16 either way; the plain ops divide by the bias corrections as products.
    a.forEach((v, i) => expect(Math.abs(b[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -7));
  });
});

describe.skipIf(!hasCuda)("train.ts's MuonAdamW on the GPU", () => {
  let fused: TrainModule, fusedF32: TrainModule;
  beforeAll(async () => {
    fused = await importTrainModule(TRAIN_SOURCE);
    fusedF32 = await importTrainModule(replaceOnce(TRAIN_SOURCE, POLAR_DTYPE, POLAR_DTYPE.replace('"bf16"', '"f32"')));
  });
  const start = () => startValues("f32");

  it("takes the CPU's steps with Polar Express in f32", () => {
    const gpu = trajectory("f32", (ps) => [trainOptimizer(fusedF32, ps)], "cuda");
    const cpu = trajectory("f32", (ps) => [trainOptimizer(fusedF32, ps)]);
    expect(relativeGap(gpu, cpu, start())).toBeLessThan(1e-3);
  });

  it("stays within bf16's noise of the exact steps with Polar Express in bf16, as train.ts runs it", () => {
    const gpu = trajectory("f32", (ps) => [trainOptimizer(fused, ps)], "cuda");
    const exact = trajectory("f32", (ps) => [trainOptimizer(fusedF32, ps)]);
    expect(relativeGap(gpu, exact, start())).toBeLessThan(0.2);
  });
});
