// A tiny GPT trained for 10 optimizer steps from the same initialisation on "cpu" and "cuda"
// must post the same losses within 1e-2 relative (skipped without a GPU).
import { describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { hasCuda } from "./compare-devices.ts";

const { F, nn } = E;
type Linear = E.nn.Linear;
type Embedding = E.nn.Embedding;
const [VOCAB, DIM, HEADS, LAYERS, B, T] = [64, 128, 2, 2, 4, 48];

class Layer extends nn.Module {
  q: Linear;
  k: Linear;
  v: Linear;
  proj: Linear;
  fc: Linear;
  fcProj: Linear;
  constructor(device: E.Device) {
    super();
    const linear = (i: number, o: number) => new nn.Linear(i, o, { device });
    [this.q, this.k, this.v, this.proj, this.fc, this.fcProj] = [linear(DIM, DIM), linear(DIM, DIM), linear(DIM, DIM), linear(DIM, DIM),
      linear(DIM, 4 * DIM), linear(4 * DIM, DIM)];
  }
}

/** Rotary + QK-norm attention (bf16 or f32 inside), relu^2 MLP, softcapped loss: train.ts's ops at toy size. */
class Tiny extends nn.Module {
  wte: Embedding;
  layers: Layer[];
  head: Linear;
  cos: E.Tensor;
  sin: E.Tensor;
  constructor(readonly device: E.Device, readonly attentionDtype: "f32" | "bf16") {
    super();
    this.wte = new nn.Embedding(VOCAB, DIM, { device });
    this.layers = Array.from({ length: LAYERS }, () => new Layer(device));
    this.head = new nn.Linear(DIM, VOCAB, { device });
    const half = DIM / HEADS / 2;
    const angles = Array.from({ length: T * half }, (_, i) => Math.floor(i / half) / 10000 ** ((i % half) / half));
    this.cos = this.registerBuffer(E.tensor(angles.map(Math.cos), [T, half], { device, dtype: attentionDtype }));
    this.sin = this.registerBuffer(E.tensor(angles.map(Math.sin), [T, half], { device, dtype: attentionDtype }));
  }

  forward(idx: E.Tensor, targets: E.Tensor): E.Tensor {
    let x = F.rmsNorm(this.wte.forward(idx));
    this.layers.forEach((l, i) => {
      const h = F.rmsNorm(x);
      const heads = (lin: Linear) => lin.forward(h).view(B, T, HEADS, DIM / HEADS).to(this.attentionDtype);
      const q = F.rmsNorm(F.applyRotary(heads(l.q), this.cos, this.sin));
      const k = F.rmsNorm(F.applyRotary(heads(l.k), this.cos, this.sin));
      const y = F.attention(q, k, heads(l.v), { window: i === 0 ? T / 2 : T }).to("f32").view(B, T, DIM);
      x = x.add(l.proj.forward(y));
      x = x.add(l.fcProj.forward(F.reluSquare(l.fc.forward(F.rmsNorm(x)))));
    });
    return F.crossEntropy(this.head.forward(F.rmsNorm(x)), targets, { softcap: 15 });
  }
}

function train(device: E.Device, attentionDtype: "f32" | "bf16"): number[] {
  E.manualSeed(42);
  const model = E.persistent(() => new Tiny(device, attentionDtype));
  const tokens = Array.from({ length: B * (T + 1) }, (_, i) => (i * i + 3 * i) % VOCAB);
  const rows = (shift: number) => Array.from({ length: B }, (_, r) => tokens.slice(r * (T + 1) + shift, r * (T + 1) + shift + T)).flat();
  const matrices = model.layers.flatMap((l) => l.parameters());
  const adamw = new E.AdamW([{ params: [model.wte.weight, model.head.weight], lr: 0.01, betas: [0.8, 0.95], eps: 1e-10, weightDecay: 0 }]);
  const shapes = [...new Set(matrices.map((p) => p.shape.join("x")))];
  const muon = new E.Muon(shapes.map((shape) => ({
    params: matrices.filter((p) => p.shape.join("x") === shape), lr: 0.02, momentum: 0.95, weightDecay: 0.1,
  })));
  const losses: number[] = [];
  for (let step = 0; step < 10; step++) {
    const x = E.tensor(rows(0), [B, T], { dtype: "i32", device });
    const y = E.tensor(rows(1), [B, T], { dtype: "i32", device });
    const loss = model.forward(x, y);
    loss.backward();
    adamw.step();
    muon.step();
    model.zeroGrad();
    losses.push(loss.item());
    E.resetArena();
  }
  model.dispose();
  return losses;
}

describe.skipIf(!hasCuda)("tiny GPT on the GPU", () => {
  it.each(["f32", "bf16"] as const)("posts the CPU's losses over 10 optimizer steps (%s attention)", (attentionDtype) => {
    const cpu = train("cpu", attentionDtype), gpu = train("cuda", attentionDtype);
    expect(cpu[9]).toBeLessThan(cpu[0]);
    cpu.forEach((loss, i) => expect(Math.abs(gpu[i] - loss) / loss, `step ${i}: cpu ${loss}, cuda ${gpu[i]}`).toBeLessThanOrEqual(1e-2));
  });
});
