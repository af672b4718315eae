import { describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { native } from "../../../src/engine/native.ts";
import { gradcheck, rand64, t64 } from "../gradcheck.ts";

const { F } = E;

describe("embedding", () => {
  E.manualSeed(15);
  it("gathers rows and scatter-adds repeated indices in backward", () => {
    const w = rand64([5, 3]);
    const idx = E.tensor([4, 0, 4, 2], [2, 2], { dtype: "i32" });
    const out = F.embedding(idx, w);
    expect(out.shape).toEqual([2, 2, 3]);
    const wv = w.toArray(), ov = out.toArray();
    [4, 0, 4, 2].forEach((r, i) => [0, 1, 2].forEach((j) => expect(ov[i * 3 + j]).toBe(wv[r * 3 + j])));
    gradcheck((weight) => F.embedding(idx, weight), [w]);
  });

  describe("backward into a bf16 table", () => {
    // 4000 of the 5000 positions are token 3; dim 70 leaves a partial column block.
    const n = 5000, vocab = 9, dim = 70;
    const indices = E.tensor(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? (i * 7) % vocab : 3)), [n], { dtype: "i32" });
    E.manualSeed(16);
    const grad = E.persistent(() => E.randn([n, dim]).mul(0.01));

    function backward(idx = indices): E.Tensor {
      const table = E.ones([vocab, dim], { dtype: "bf16" });
      native.embeddingBackward(table.storage.id, 0, idx.storage.id, 0, grad.storage.id, 0, n, vocab, dim);
      return table;
    }

    it("rounds each token's sum once, however often the token occurs", () => {
      const exact = new Float64Array(vocab * dim).fill(1), g = grad.toArray(), idx = indices.toArray();
      for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) exact[idx[i] * dim + j] += g[i * dim + j];
      // One rounding to bf16 moves a value by at most half its ulp (1e-5 for the f32 sums); rounding per add drifts further.
      const halfUlp = (x: number) => 2 ** (Math.floor(Math.log2(Math.abs(x))) - 8);
      backward().toArray().forEach((v, e) => expect(Math.abs(v - exact[e])).toBeLessThanOrEqual(halfUlp(exact[e]) + 1e-5));
    });

    it("gives the same bits on every run", () => {
      expect(Array.from(backward().toArray())).toEqual(Array.from(backward().toArray()));
    });

    it("refuses a bad index before writing anything", () => {
      const bad = E.tensor(Array.from({ length: n }, (_, i) => (i === 1 ? 99 : 0)), [n], { dtype: "i32" });
      const table = E.ones([vocab, dim], { dtype: "bf16" });
      expect(() => native.embeddingBackward(table.storage.id, 0, bad.storage.id, 0, grad.storage.id, 0, n, vocab, dim))
        .toThrow("embedding backward: index 99 at position 1 is out of range [0, 9)");
      expect(Array.from(table.toArray()).every((v) => v === 1)).toBe(true);
    });
  });
});

describe("rms_norm", () => {
  it("normalises the last dim and matches finite differences", () => {
    const x = rand64([3, 5]);
    const y = F.rmsNorm(x).toArray();
    const xv = x.toArray();
    for (let r = 0; r < 3; r++) {
      const row = Array.from(xv.slice(r * 5, r * 5 + 5));
      const rms = Math.sqrt(row.reduce((s, v) => s + v * v, 0) / 5 + 2.220446049250313e-16);
      row.forEach((v, j) => expect(y[r * 5 + j]).toBeCloseTo(v / rms, 12));
    }
    gradcheck((t) => F.rmsNorm(t), [rand64([2, 3, 4])]);
    gradcheck((t) => F.rmsNorm(t.transpose(0, 1)), [rand64([4, 3])]);
  });
});

describe("rotary", () => {
  it("rotates halves like the reference and matches finite differences", () => {
    const [B, T, H, D] = [1, 3, 2, 4];
    const x = rand64([B, T, H, D]);
    const ang = Array.from({ length: T * 2 }, (_, i) => 0.3 * (i + 1));
    const cos = t64(ang.map(Math.cos), [T, 2]), sin = t64(ang.map(Math.sin), [T, 2]);
    const y = F.applyRotary(x, cos, sin).toArray();
    const xv = x.toArray();
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++)
        for (let j = 0; j < 2; j++) {
          const base = (t * H + h) * D, c = Math.cos(ang[t * 2 + j]), s = Math.sin(ang[t * 2 + j]);
          const x1 = xv[base + j], x2 = xv[base + 2 + j];
          expect(y[base + j]).toBeCloseTo(x1 * c + x2 * s, 12);
          expect(y[base + 2 + j]).toBeCloseTo(-x1 * s + x2 * c, 12);
        }
    gradcheck((t) => F.applyRotary(t, cos, sin), [rand64([2, 3, 2, 4])]);
  });
});

/** softmax(q k^T * scale) v with the window mask, straight from the definition. */
function naiveAttention(q: Float64Array, k: Float64Array, v: Float64Array, [B, T, H, D]: number[], window: number): number[] {
  const out = new Array<number>(B * T * H * D).fill(0);
  const at = (b: number, t: number, h: number) => ((b * T + t) * H + h) * D;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < T; i++) {
        const js = [];
        for (let j = 0; j <= i; j++) if (i - j <= window) js.push(j);
        const s = js.map((j) => {
          let d = 0;
          for (let c = 0; c < D; c++) d += q[at(b, i, h) + c] * k[at(b, j, h) + c];
          return d / Math.sqrt(D);
        });
        const m = Math.max(...s);
        const p = s.map((x) => Math.exp(x - m));
        const z = p.reduce((a, c) => a + c, 0);
        js.forEach((j, n) => {
          for (let c = 0; c < D; c++) out[at(b, i, h) + c] += (p[n] / z) * v[at(b, j, h) + c];
        });
      }
  return out;
}

describe("attention", () => {
  it.each([
    [5, "full causal"],
    [2, "sliding window of 2"],
    [0, "window 0 (self only)"],
  ])("window %i (%s): values match the definition", (window) => {
    const shape = [2, 5, 2, 3];
    const q = rand64(shape), k = rand64(shape), v = rand64(shape);
    const got = F.attention(q, k, v, { window }).toArray();
    const want = naiveAttention(q.toArray() as Float64Array, k.toArray() as Float64Array, v.toArray() as Float64Array, shape, window);
    want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 12));
  });

  it.each([
    [[2, 37, 3, 32], 37, "full causal, T not a multiple of the 4-query or 16-key blocks"],
    [[1, 50, 2, 128], 19, "a sliding window, head dim 128"],
    [[2, 9, 1, 8], 0, "window 0"],
  ])("the fp32 and bf16 kernels (register-blocked) agree with the f64 one: %j, window %i (%s)", (shape, window) => {
    const [q, k, v, g] = [0, 1, 2, 3].map(() => rand64(shape as number[]));
    const run = (dtype: E.DType) => {
      const xs = [q, k, v].map((t) => t.to(dtype).detach().requiresGrad_());
      const out = F.attention(xs[0], xs[1], xs[2], { window });
      out.mul(g.to(dtype)).sum().backward();
      return [out, ...xs.map((x) => x.grad!)].map((t) => t.toArray());
    };
    const exact = run("f64");
    for (const [dtype, tol] of [["f32", 1e-5], ["bf16", 3e-2]] as const) {
      run(dtype).forEach((got, n) => {
        const scale = Math.max(1, ...Array.from(exact[n], Math.abs));
        got.forEach((x, i) => expect(Math.abs(x - exact[n][i]), `${dtype} tensor ${n} [${i}]`).toBeLessThanOrEqual(tol * scale));
      });
    }
  });

  it("gradients match finite differences (full and windowed, from non-contiguous views)", () => {
    const shape = [1, 4, 2, 3];
    gradcheck((q, k, v) => F.attention(q, k, v), [rand64(shape), rand64(shape), rand64(shape)]);
    gradcheck((q, k, v) => F.attention(q, k, v, { window: 1 }), [rand64(shape), rand64(shape), rand64(shape)]);
    gradcheck((q, k, v) => F.attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), { window: 2 }),
      [rand64([1, 2, 4, 3]), rand64([1, 2, 4, 3]), rand64([1, 2, 4, 3])]);
  });
});

describe("softmax and log_softmax", () => {
  it("values sum to one and gradients match finite differences on any dim", () => {
    const x = rand64([3, 4]);
    const p = F.softmax(x).toArray();
    for (let r = 0; r < 3; r++) expect(Array.from(p.slice(r * 4, r * 4 + 4)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const lp = F.logSoftmax(x).toArray();
    lp.forEach((v, i) => expect(Math.exp(v)).toBeCloseTo(p[i], 12));
    gradcheck((t) => F.softmax(t), [rand64([2, 5])]);
    gradcheck((t) => F.logSoftmax(t, 0), [rand64([3, 4])]);
  });
});

describe("cross_entropy", () => {
  const logitsVals = [0.2, -1.1, 3.0, 0.5, 0.0, 1.5, -0.3, 2.2, 1.0, -2.0, 0.7, 0.1];
  const targets = E.tensor([2, -1, 0], [3], { dtype: "i32" });

  function naiveLosses(softcap: number): number[] {
    return [0, 1, 2].map((r) => {
      const row = logitsVals.slice(r * 4, r * 4 + 4).map((z) => (softcap > 0 ? softcap * Math.tanh(z / softcap) : z));
      const t = [2, -1, 0][r];
      if (t === -1) return 0;
      const m = Math.max(...row);
      return m + Math.log(row.reduce((s, z) => s + Math.exp(z - m), 0)) - row[t];
    });
  }

  it.each([0, 1.5])("softcap %s: per-token losses, mean over non-ignored tokens, and gradients", (cap) => {
    const logits = t64(logitsVals, [3, 4]);
    const want = naiveLosses(cap);
    const none = F.crossEntropy(logits, targets, { ignoreIndex: -1, reduction: "none", softcap: cap }).toArray();
    want.forEach((w, i) => expect(none[i]).toBeCloseTo(w, 12));
    const mean = F.crossEntropy(logits, targets, { ignoreIndex: -1, softcap: cap }).item();
    expect(mean).toBeCloseTo((want[0] + want[2]) / 2, 12);
    gradcheck((l) => F.crossEntropy(l, targets, { ignoreIndex: -1, softcap: cap }), [t64(logitsVals, [3, 4])]);
    gradcheck((l) => F.crossEntropy(l.reshape(1, 3, 4), targets.reshape(1, 3), { ignoreIndex: -1, reduction: "none", softcap: cap }),
      [t64(logitsVals, [3, 4])]);
  });
});
