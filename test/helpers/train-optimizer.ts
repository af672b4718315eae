/**
 * train.ts's model and optimizer sections as an importable module, and copies of train.ts whose
 * fused optimizer primitives are replaced by the plain ops each one's doc comment gives.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { DType, Device, Tensor } from "../../src/engine/index.ts";
import { REPO } from "./train-run.ts";

const FIRST_BANNER = "// GPT model";
const NEXT_BANNER = "// Hyperparameters";

/** Replaces `from` (which must occur exactly once) by `to`, naming what was missing. */
export function replaceOnce(source: string, from: string, to: string): string {
  const count = source.split(from).length - 1;
  if (count !== 1) throw new Error(`Expected train.ts to contain once: ${from}\n(found ${count} times)`);
  return source.replace(from, () => to);
}

export interface ParamGroupLike {
  kind: "adamw" | "muon";
  params: Tensor[];
  lr: number;
  initialLr: number;
  [key: string]: unknown;
}

export interface TrainOptimizer {
  paramGroups: ParamGroupLike[];
  step(): void;
}

export interface TrainModule {
  /** config: train.ts's GPTConfig (sequenceLen, vocabSize, nLayer, nHead, nEmbd, windowPattern). */
  GPT: new (config: Record<string, number | string>, device: Device, computeDtype: DType) => {
    initWeights(): void;
    parameters(): Tensor[];
    setupOptimizer(opts?: Record<string, unknown>): TrainOptimizer;
  };
  MuonAdamW: new (groups: ParamGroupLike[]) => TrainOptimizer;
}

/** Imports GPT and MuonAdamW from a train.ts source (its model and optimizer sections, with train.ts's imports). */
export async function importTrainModule(source: string): Promise<TrainModule> {
  const start = source.lastIndexOf("\n// ----", source.indexOf(FIRST_BANNER));
  const end = source.lastIndexOf("\n// ----", source.indexOf(NEXT_BANNER));
  if (start < 0 || end < start) throw new Error(`train.ts has no sections between "${FIRST_BANNER}" and "${NEXT_BANNER}"`);
  const engine = path.join(REPO, "src/engine/index.ts");
  const module = [
    `import * as torch from ${JSON.stringify(engine)};`,
    `import { F, nn, Tensor } from ${JSON.stringify(engine)};`,
    source.slice(start, end),
    "export { GPT, MuonAdamW };",
  ].join("\n");
  const file = path.join(mkdtempSync(path.join(tmpdir(), "ar-optimizer-")), "optimizer.ts");
  writeFileSync(file, module);
  return (await import(file)) as TrainModule;
}

/** The plain-op compositions of the fused primitives, as an agent changing the algorithm would write them. */
const UNFUSED: [fused: string, plain: string][] = [
  [
    "const g = F.nesterovMomentum_(params.map((p) => p.grad!), momentum_buffer, momentum);",
    `const grads = torch.stack(params.map((p) => p.grad!));
  momentum_buffer.copy_(momentum_buffer.add(grads.sub(momentum_buffer).mul(1 - momentum)));
  const g = grads.add(momentum_buffer.sub(grads).mul(momentum));`,
  ],
  [
    "const scale = F.normuonScale_(X, second_momentum_buffer, beta2);",
    `const red_dim = X.size(-2) >= X.size(-1) ? -1 : -2, red_dim_size = X.size(red_dim);
  const v_mean = X.to(second_momentum_buffer.dtype).square().mean(red_dim, true);
  const v_norm = v_mean.sum([-2, -1], true).mul(red_dim_size).sqrt();
  second_momentum_buffer.copy_(second_momentum_buffer.add(v_mean.sub(second_momentum_buffer).mul(1 - beta2)));
  const step_size = torch.maximum(second_momentum_buffer, 1e-10).rsqrt();
  const v_norm_new = v_mean.mul(red_dim_size).mul(step_size.square()).sum([-2, -1], true).sqrt();
  const scale = step_size.mul(v_norm.div(torch.maximum(v_norm_new, 1e-10)));`,
  ],
  [
    "F.cautiousUpdate_(params, X, scale, { lr, weightDecay: wd });",
    `const U = X.to(params[0].dtype).mul(scale);
  params.forEach((p, i) => {
    const u = U.slice(0, i, i + 1).squeeze(0);
    const mask = torch.step(u.mul(p));
    p.copy_(p.sub(u.mul(lr)).sub(p.mul(mask).mul(lr * wd)));
  });`,
  ],
  [
    "F.adamwStep_(p, p.grad, state.expAvg, state.expAvgSq, { step: state.step, lr: group.lr, betas: group.betas, eps: group.eps, weightDecay: group.weightDecay });",
    `const { lr, betas: [beta1, beta2], eps, weightDecay } = group;
      const grad = p.grad.to(state.expAvg.dtype);
      state.expAvg.copy_(state.expAvg.add(grad.sub(state.expAvg).mul(1 - beta1)));
      state.expAvgSq.copy_(state.expAvgSq.add(grad.square().sub(state.expAvgSq).mul(1 - beta2)));
      const denom = state.expAvgSq.div(1 - beta2 ** state.step).sqrt().add(eps);
      p.copy_(p.to(state.expAvg.dtype).mul(1 - lr * weightDecay).sub(state.expAvg.div(denom).mul(lr / (1 - beta1 ** state.step))));`,
  ],
];

/** The names of the fused primitives train.ts's optimizer calls, in UNFUSED's order. */
export const FUSED_PRIMITIVES = ["nesterovMomentum_", "normuonScale_", "cautiousUpdate_", "adamwStep_"] as const;

/** train.ts with the named fused primitives (all by default) replaced by their plain-op compositions. */
export function unfusedOptimizer(source: string, which: readonly string[] = FUSED_PRIMITIVES): string {
  return UNFUSED.filter((_, i) => which.includes(FUSED_PRIMITIVES[i])).reduce((s, [fused, plain]) => replaceOnce(s, fused, plain), source);
}
