/**
 * Optimizer step time: train.ts's MuonAdamW (fused primitives, Polar Express written with
 * torch.baddbmm) next to the engine's torch.AdamW + torch.Muon that train.ts called before, on
 * train.ts's own model at a profile's size, the same parameters and gradients for both.
 * Run: npm run bench:optimizer [-- --profile cpu|test|default] [--reps N]
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import * as torch from "../src/engine/index.ts";
import { readHyperparameters } from "../src/runner/read-hyperparameters.ts";
import { trainSourceForProfile } from "../src/runner/train-profiles.ts";
import { importTrainModule, type TrainOptimizer } from "../test/helpers/train-optimizer.ts";
import { REPO } from "../test/helpers/train-run.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const profile = arg("profile", "cpu");
const reps = Number(arg("reps", "9"));
process.env.AUTORESEARCH_PROFILE = profile;
const { MAX_SEQ_LEN, VOCAB_SIZE } = await import("../prepare.ts");

const source = trainSourceForProfile(readFileSync(path.join(REPO, "train.ts"), "utf8"), profile).source;
const consts = Object.fromEntries(readHyperparameters(source).map((h) => [h.name, h.kind === "power" ? (h.value as number[])[0] ** (h.value as number[])[1] : h.value]));
const num = (name: string) => consts[name] as number;
const modelDim = Math.ceil((num("DEPTH") * num("ASPECT_RATIO")) / num("HEAD_DIM")) * num("HEAD_DIM");
const config = {
  sequenceLen: MAX_SEQ_LEN, vocabSize: VOCAB_SIZE, nLayer: num("DEPTH"), nHead: modelDim / num("HEAD_DIM"), nEmbd: modelDim,
  windowPattern: consts.WINDOW_PATTERN as string,
};

const { backend: device, device: deviceName } = torch.backend();
const { GPT } = await importTrainModule(source);
torch.manualSeed(0);
const model = torch.persistent(() => new GPT(config, device, device === "cuda" ? "bf16" : "f32"));
model.initWeights();
for (const p of model.parameters()) p.accumulateGrad(torch.randn(p.shape, { dtype: p.dtype, device }));
torch.resetArena();

const mine = model.setupOptimizer({
  unembeddingLr: num("UNEMBEDDING_LR"), embeddingLr: num("EMBEDDING_LR"), scalarLr: num("SCALAR_LR"),
  adamBetas: consts.ADAM_BETAS, matrixLr: num("MATRIX_LR"), weightDecay: num("WEIGHT_DECAY"),
});
const adamGroups = mine.paramGroups.filter((g) => g.kind === "adamw");
const muonGroups = mine.paramGroups.filter((g) => g.kind === "muon");
const engineAdamW = new torch.AdamW(adamGroups.map((g) => ({ params: g.params, lr: g.lr, betas: g.betas as [number, number], eps: g.eps as number, weightDecay: 0 })));
const engineMuon = new torch.Muon(muonGroups.map((g) => ({ params: g.params, lr: g.lr, momentum: 0.95, weightDecay: num("WEIGHT_DECAY") })));
const engine: TrainOptimizer = { paramGroups: [], step: () => { engineAdamW.step(); engineMuon.step(); } };

function timeStep(opt: TrainOptimizer): number {
  const t0 = performance.now();
  opt.step();
  torch.synchronize(device);
  const ms = performance.now() - t0;
  torch.resetArena();
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const opt of [mine, engine, mine, engine]) timeStep(opt); // state allocation and warm-up
const times: Record<"mine" | "engine", number[]> = { mine: [], engine: [] };
for (let r = 0; r < reps; r++) {
  times.mine.push(timeStep(mine));
  times.engine.push(timeStep(engine));
}
const [mineMs, engineMs] = [median(times.mine), median(times.engine)];
const params = model.parameters().reduce((n, p) => n + p.numel, 0);
console.log(`optimizer step on ${deviceName} (${device}), profile ${profile}: ${(params / 1e6).toFixed(2)}M parameters, median of ${reps}`);
console.log(`| optimizer | ms/step |\n|---|---|`);
console.log(`| train.ts MuonAdamW | ${mineMs.toFixed(2)} |`);
console.log(`| engine torch.AdamW + torch.Muon (before) | ${engineMs.toFixed(2)} |`);
console.log(JSON.stringify({ bench: "optimizer", profile, device, params, train_ts_ms: +mineMs.toFixed(3), engine_ms: +engineMs.toFixed(3), ratio_vs_engine: +(mineMs / engineMs).toFixed(3) }));
