import { describe, expect, it } from "vitest";
import * as E from "../../src/engine/index.ts";

const { F, nn } = E;

/** A 2-layer GPT with the reference's building blocks (rotary, QK-norm, relu^2, softcap). */
class TinyGPT extends nn.Module {
  wte: E.Tensor;
  blocks: { q: E.Tensor; k: E.Tensor; v: E.Tensor; proj: E.Tensor; fc: E.Tensor; fcProj: E.Tensor }[];
  lmHead: E.Tensor;
  cos: E.Tensor;
  sin: E.Tensor;

  constructor(readonly vocab: number, readonly dim: number, readonly heads: number, layers: number, seqLen: number) {
    super();
    const s = Math.sqrt(3) / Math.sqrt(dim);
    const mat = (r: number, c: number, init: (t: E.Tensor) => E.Tensor) => init(nn.Parameter([r, c]));
    this.wte = mat(vocab, dim, (t) => E.normal_(t));
    this.blocks = Array.from({ length: layers }, () => ({
      q: mat(dim, dim, (t) => E.uniform_(t, -s, s)),
      k: mat(dim, dim, (t) => E.uniform_(t, -s, s)),
      v: mat(dim, dim, (t) => E.uniform_(t, -s, s)),
      proj: mat(dim, dim, (t) => t.zero_()),
      fc: mat(4 * dim, dim, (t) => E.uniform_(t, -s, s)),
      fcProj: mat(dim, 4 * dim, (t) => t.zero_()),
    }));
    this.lmHead = mat(vocab, dim, (t) => E.normal_(t, 0, 0.001));
    const hd = dim / heads;
    const angles = Array.from({ length: seqLen * (hd / 2) }, (_, i) => Math.floor(i / (hd / 2)) / 10000 ** ((2 * (i % (hd / 2))) / hd));
    this.cos = this.registerBuffer(E.tensor(angles.map(Math.cos), [seqLen, hd / 2]));
    this.sin = this.registerBuffer(E.tensor(angles.map(Math.sin), [seqLen, hd / 2]));
  }

  // Module.namedParameters walks own fields; expose the block matrices to it as a flat list.
  override parameters(): E.Tensor[] {
    return [this.wte, this.lmHead, ...this.blocks.flatMap((b) => [b.q, b.k, b.v, b.proj, b.fc, b.fcProj])];
  }

  forward(idx: E.Tensor, targets: E.Tensor): E.Tensor {
    const [B, T] = idx.shape;
    const hd = this.dim / this.heads;
    let x = F.rmsNorm(F.embedding(idx, this.wte));
    for (const b of this.blocks) {
      const h = F.rmsNorm(x);
      const heads = (w: E.Tensor) => F.linear(h, w).reshape(B, T, this.heads, hd);
      const q = F.rmsNorm(F.applyRotary(heads(b.q), this.cos, this.sin));
      const k = F.rmsNorm(F.applyRotary(heads(b.k), this.cos, this.sin));
      const y = F.attention(q, k, heads(b.v), { window: T }).reshape(B, T, this.dim);
      x = x.add(F.linear(y, b.proj));
      x = x.add(F.linear(F.reluSquare(F.linear(F.rmsNorm(x), b.fc)), b.fcProj));
    }
    const logits = F.linear(F.rmsNorm(x), this.lmHead);
    return F.crossEntropy(logits, targets, { softcap: 15 });
  }
}

function train(steps: number): number[] {
  E.manualSeed(42);
  const [V, B, T] = [32, 4, 16];
  const model = new TinyGPT(V, 32, 2, 2, T);
  const stream = E.randn([B * (T + 1)]).toArray();
  const tokens = Array.from(stream, (v) => Math.abs(Math.floor(v * 1000)) % V);
  const rows = Array.from({ length: B }, (_, r) => tokens.slice(r * (T + 1), (r + 1) * (T + 1)));
  const x = () => E.tensor(rows.flatMap((r) => r.slice(0, T)), [B, T], { dtype: "i32" });
  const y = () => E.tensor(rows.flatMap((r) => r.slice(1)), [B, T], { dtype: "i32" });
  const opt = new E.AdamW([{ params: model.parameters(), lr: 0.01, betas: [0.8, 0.95], eps: 1e-10, weightDecay: 0 }]);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const loss = model.forward(x(), y());
    loss.backward();
    opt.step();
    opt.zeroGrad();
    losses.push(loss.item());
    E.resetArena();
  }
  model.dispose();
  return losses;
}

describe("tiny GPT on the CPU", () => {
  it("drives its training loss down on a fixed token stream, with the same losses from the same seed", () => {
    const a = train(40);
    expect(a[0]).toBeGreaterThan(Math.log(32) - 0.3);
    expect(a[a.length - 1]).toBeLessThan(a[0] * 0.5);
    const b = train(5);
    expect(b).toEqual(a.slice(0, 5));
  });
});
