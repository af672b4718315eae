import { describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { native } from "../../../src/engine/native.ts";
import type { Tensor } from "../../../src/engine/index.ts";

// Muon composed from generic engine ops, as optim/muon.ts was before its fused kernels: the
// reference the fused path must reproduce.
function composedPolar(g: Tensor): Tensor {
  const [, rows, cols] = g.shape;
  let X = g.div(g.norm([-2, -1], true).mul(1.02).add(1e-6));
  const tall = rows > cols;
  for (const [a, b, c] of E.POLAR_EXPRESS_COEFFS) {
    const A = tall ? E.matmul(X.transpose(-2, -1), X) : E.matmul(X, X.transpose(-2, -1));
    const B = A.mul(b).add(E.matmul(A, A).mul(c));
    X = X.mul(a).add(tall ? E.matmul(X, B) : E.matmul(B, X));
  }
  return X;
}

function composedNorMuon(X: Tensor, secondMomentum: Tensor, beta2: number): Tensor {
  const [, rows, cols] = X.shape;
  const dim = rows >= cols ? -1 : -2;
  const n = rows >= cols ? cols : rows;
  const vMean = X.square().mean(dim, true);
  const vNorm = vMean.sum([-2, -1], true).mul(n).sqrt();
  secondMomentum.copy_(secondMomentum.add(vMean.sub(secondMomentum).mul(1 - beta2)));
  const stepSize = E.maximum(secondMomentum, 1e-10).rsqrt();
  const vNormNew = vMean.mul(n).mul(stepSize.square()).sum([-2, -1], true).sqrt();
  return X.mul(stepSize).mul(vNorm.div(E.maximum(vNormNew, 1e-10)));
}

const momentum = (buf: Tensor, G: Tensor, mu: number): Tensor => {
  buf.copy_(buf.add(G.sub(buf).mul(1 - mu)));
  return G.add(buf.sub(G).mul(mu));
};

const cautious = (P: Tensor, X: Tensor, lr: number, wd: number): Tensor =>
  P.sub(X.mul(lr)).sub(P.mul(E.step(X.mul(P))).mul(lr * wd));

interface Composed { params: Tensor; buf: Tensor; sm: Tensor }

function composedStep(s: Composed, G: Tensor, lr: number, mu: number, wd: number, beta2: number): void {
  const [, rows, cols] = G.shape;
  const X = composedNorMuon(composedPolar(momentum(s.buf, G, mu)), s.sm, beta2);
  s.params.copy_(cautious(s.params, X, lr * Math.max(1, rows / cols) ** 0.5, wd));
}

const ids = (ts: Tensor[]): [number[], number[]] => [ts.map((t) => t.storage.id), ts.map((t) => t.offset)];
const unstack = (t: Tensor): Tensor[] => Array.from({ length: t.shape[0] }, (_, i) => t.slice(0, i, i + 1).reshape(t.shape[1], t.shape[2]));

function expectClose(actual: Tensor, expected: Tensor, tol: number): void {
  const a = actual.toArray(), e = expected.toArray();
  expect(a.length).toBe(e.length);
  const scale = Math.max(1, ...Array.from(e, Math.abs));
  e.forEach((v, i) => expect(Math.abs(a[i] - v)).toBeLessThanOrEqual(tol * scale));
}

const SHAPES = [[3, 5, "wide"], [5, 3, "tall"], [4, 4, "square"], [24, 40, "wide"], [40, 24, "tall"]] as const;

describe("Muon's fused kernels against the composed formulas (f64)", () => {
  it.each(SHAPES)("%ix%i (%s): whole steps, momentum and weight decay changing", (rows, cols) => {
    E.manualSeed(31);
    const k = 3;
    const params = Array.from({ length: k }, () => E.normal_(E.nn.Parameter([rows, cols], "f64"), 0, 0.5));
    const ref: Composed = {
      params: E.stack(params).detach(),
      buf: E.zeros([k, rows, cols], { dtype: "f64" }),
      sm: E.zeros(rows >= cols ? [k, rows, 1] : [k, 1, cols], { dtype: "f64" }),
    };
    const opt = new E.Muon([{ params, lr: 0.03, momentum: 0.85, weightDecay: 0.3, polarExpressDtype: "f64" }]);
    for (let s = 0; s < 3; s++) {
      const G = E.randn([k, rows, cols], { dtype: "f64" });
      unstack(G).forEach((g, i) => (params[i].grad = g));
      opt.paramGroups[0].momentum = 0.85 + 0.04 * s;
      opt.step();
      composedStep(ref, G, 0.03, 0.85 + 0.04 * s, 0.3, 0.95);
      expectClose(E.stack(params), ref.params, 1e-12);
    }
  });

  it.each(SHAPES)("%ix%i (%s): Polar Express with GEMM epilogues", (rows, cols) => {
    E.manualSeed(32);
    const g = E.randn([2, rows, cols], { dtype: "f64" });
    expectClose(E.polarExpress(g, "f64"), composedPolar(g), 1e-12);
  });

  it("momentum reads the k gradients where they are, at their offsets", () => {
    E.manualSeed(33);
    const grads = E.randn([3, 4, 6], { dtype: "f64" });
    const buf = E.randn([3, 4, 6], { dtype: "f64" }), refBuf = buf.add(0);
    const out = E.zeros([3, 4, 6], { dtype: "f64" });
    native.muonMomentum(...ids(unstack(grads)), buf.storage.id, 0, out.storage.id, 0, 24, 0.9);
    expectClose(out, momentum(refBuf, grads, 0.9), 1e-15);
    expectClose(buf, refBuf, 1e-15);
  });

  it.each(SHAPES)("%ix%i (%s): NorMuon's scale and second moment", (rows, cols) => {
    E.manualSeed(34);
    const k = 2, stats = rows >= cols ? rows : cols;
    const X = E.randn([k, rows, cols], { dtype: "f64" });
    const sm = E.rand([k, stats], { dtype: "f64" }).reshape(...(rows >= cols ? [k, rows, 1] : [k, 1, cols]));
    const refSm = sm.add(0);
    const scale = E.zeros([k, stats], { dtype: "f64" });
    native.norMuon(X.storage.id, 0, sm.storage.id, 0, scale.storage.id, 0, k, rows, cols, 0.9);
    const scaled = X.mul(scale.reshape(...refSm.shape));
    expectClose(scaled, composedNorMuon(X, refSm, 0.9), 1e-13);
    expectClose(sm, refSm, 1e-15);
  });

  it("the cautious update writes each parameter in place", () => {
    E.manualSeed(35);
    const P = E.randn([2, 3, 5], { dtype: "f64" }), X = E.randn([2, 3, 5], { dtype: "f64" });
    const scale = E.rand([2, 5], { dtype: "f64" }).add(0.5);
    const expected = cautious(P, X.mul(scale.reshape(2, 1, 5)), 0.1, 0.5);
    native.muonUpdate(...ids(unstack(P)), X.storage.id, 0, scale.storage.id, 0, 3, 5, 0.1, 0.5);
    expectClose(P, expected, 1e-15);
  });

  it.each([[6, 10], [10, 6]])("%ix%i: NorMuon and the update read a bf16 X as its values, with f32 state", (rows, cols) => {
    E.manualSeed(39);
    const k = 2, stats = rows >= cols ? rows : cols;
    const X = E.randn([k, rows, cols]).to("bf16"), P0 = E.randn([k, rows, cols]), sm0 = E.rand([k, stats]);
    const step = (x: Tensor): [Tensor, Tensor] => {
      const P = P0.add(0), sm = sm0.add(0), scale = E.zeros([k, stats]);
      native.norMuon(x.storage.id, 0, sm.storage.id, 0, scale.storage.id, 0, k, rows, cols, 0.9);
      native.muonUpdate(...ids(unstack(P)), x.storage.id, 0, scale.storage.id, 0, rows, cols, 0.1, 0.5);
      return [P, sm];
    };
    const fromBf16 = step(X), fromF32 = step(X.to("f32"));
    fromBf16.forEach((t, i) => expect(Array.from(t.toArray())).toEqual(Array.from(fromF32[i].toArray())));
  });

  it("an f32 step stays within f32 rounding of the composed one", () => {
    E.manualSeed(36);
    const params = [0, 1].map(() => E.normal_(E.nn.Parameter([16, 24], "f32"), 0, 0.5));
    const ref: Composed = { params: E.stack(params).detach(), buf: E.zeros([2, 16, 24]), sm: E.zeros([2, 1, 24]) };
    const G = E.randn([2, 16, 24]);
    unstack(G).forEach((g, i) => (params[i].grad = g));
    new E.Muon([{ params, lr: 0.04, momentum: 0.95, weightDecay: 0.2, polarExpressDtype: "f32" }]).step();
    composedStep(ref, G, 0.04, 0.95, 0.2, 0.95);
    expectClose(E.stack(params), ref.params, 2e-5);
  });
});

describe("Muon's memory", () => {
  // Peak arena bytes of one step on an empty arena.
  function peakOf(step: () => void): number {
    E.resetArena();
    E.resetPeakMemory("cpu");
    const before = E.memoryStats("cpu");
    step();
    return E.memoryStats("cpu").peakBytes - before.persistentBytes;
  }

  it.each([[8, 64, 128], [8, 128, 64], [8, 96, 96]])("k=%i %ix%i: a step takes a few times the group's size, not tens", (k, rows, cols) => {
    E.manualSeed(37);
    const params = Array.from({ length: k }, () => E.normal_(E.nn.Parameter([rows, cols]), 0, 0.5));
    const G = E.persistent(() => E.randn([k, rows, cols]));
    unstack(G).forEach((g, i) => (params[i].grad = g));
    const opt = new E.Muon([{ params, lr: 0.04, momentum: 0.95, weightDecay: 0.2 }]);
    opt.step();  // state allocated once, outside the measurement
    const fused = peakOf(() => opt.step());
    const ref: Composed = E.persistent(() => ({ params: E.stack(params), buf: E.zeros([k, rows, cols]), sm: E.zeros(rows >= cols ? [k, rows, 1] : [k, 1, cols]) }));
    const composed = peakOf(() => E.noGrad(() => composedStep(ref, G, 0.04, 0.95, 0.2, 0.95)));
    const groupBytes = k * rows * cols * 4;
    expect(fused).toBeLessThanOrEqual(4.5 * groupBytes);
    expect(fused * 8).toBeLessThan(composed);
  });
});

describe("Muon's native kernels reject bad arguments", () => {
  const f64 = (shape: number[]) => E.zeros(shape, { dtype: "f64" });

  it("muonMomentum", () => {
    const g = [f64([2, 3]), f64([2, 3])], buf = f64([2, 6]), out = f64([2, 6]);
    const call = (gi: [number[], number[]], b = buf, o = out, n = 6) => () =>
      native.muonMomentum(...gi, b.storage.id, 0, o.storage.id, 0, n, 0.9);
    expect(call([[g[0].storage.id, 987654], [0, 0]])).toThrow(/muonMomentum \(grads\): storage #987654 is not live/);
    expect(call([[g[0].storage.id, 1.5], [0, 0]])).toThrow("muonMomentum: argument 0 (grads) must be an array of integers; entry 1 is not");
    expect(call([[g[0].storage.id], [0, 0]])).toThrow("muonMomentum: grads has 1 storage ids but 2 offsets");
    expect(call(ids(g), buf, out, 7)).toThrow(/muonMomentum \(buf\): access \[0, 14\) is outside the storage of 12 elements/);
    expect(call([ids(g)[0], [0, 1]])).toThrow(/muonMomentum \(grads\): access \[1, 7\) is outside the storage of 6 elements/);
    expect(call(ids([g[0], E.zeros([2, 3])]))).toThrow("muonMomentum: expected grads to be f64, got f32");
    expect(call(ids(g), buf, E.zeros([2, 6]))).toThrow("muonMomentum: out is f32 but buf is f64");
    const i32 = E.zeros([2, 6], { dtype: "i32" });
    expect(call(ids([i32.slice(0, 0, 1), i32.slice(0, 1, 2)]), i32, i32)).toThrow(/muonMomentum: expected buf to be a floating-point dtype/);
  });

  it("norMuon", () => {
    const x = f64([2, 3, 5]), sm = f64([2, 5]), scale = f64([2, 5]);
    const call = (xx = x, s = sm, sc = scale, rows = 3) => () =>
      native.norMuon(xx.storage.id, 0, s.storage.id, 0, sc.storage.id, 0, 2, rows, 5, 0.95);
    expect(() => native.norMuon(987654, 0, sm.storage.id, 0, scale.storage.id, 0, 2, 3, 5, 0.95)).toThrow(/norMuon \(x\): storage #987654 is not live/);
    expect(call(x, sm, scale, 4)).toThrow(/norMuon \(x\): access \[0, 40\) is outside the storage of 30 elements/);
    expect(call(x, f64([2, 4]))).toThrow(/norMuon \(secondMoment\): access \[0, 10\) is outside the storage of 8 elements/);
    expect(call(x, E.zeros([2, 5], { dtype: "i32" }))).toThrow(/norMuon: expected secondMoment to be a floating-point dtype/);
    expect(call(x, sm, E.zeros([2, 5]))).toThrow("norMuon: expected scale to be f64, got f32");
    expect(call(E.zeros([2, 3, 5], { dtype: "bf16" }), sm, E.zeros([2, 5]))).toThrow("norMuon: expected scale to be f64, got f32");
    expect(call(E.zeros([2, 3, 5], { dtype: "bf16" }), E.zeros([2, 5], { dtype: "bf16" }), E.zeros([2, 5]))).not.toThrow();
  });

  it("muonUpdate", () => {
    const p = [f64([3, 5]), f64([3, 5])], x = f64([2, 3, 5]), scale = f64([2, 5]);
    const call = (pi: [number[], number[]], xx = x, sc = scale, cols = 5) => () =>
      native.muonUpdate(...pi, xx.storage.id, 0, sc.storage.id, 0, 3, cols, 0.1, 0.2);
    expect(call([[p[0].storage.id, -4], [0, 0]])).toThrow(/muonUpdate \(params\): storage #-4 is not live/);
    expect(call(ids(p), x, f64([2, 4]))).toThrow(/muonUpdate \(scale\): access \[0, 10\) is outside the storage of 8 elements/);
    expect(call(ids(p), x, scale, 6)).toThrow(/muonUpdate \(x\): access \[0, 36\) is outside the storage of 30 elements/);
    expect(call(ids([p[0], E.zeros([3, 5])]))).toThrow("muonUpdate: expected params to be f64, got f32");
    expect(call(ids(p), x, E.zeros([2, 5]))).toThrow("muonUpdate: expected scale to be f64, got f32");
    expect(call(ids(p), E.zeros([2, 3, 5], { dtype: "bf16" }), E.zeros([2, 5]))).toThrow("muonUpdate: expected scale to be f64, got f32");
    expect(() => native.muonUpdate(...ids(p), x.storage.id, 0, scale.storage.id, 0, 3, 5, 0.1, "x" as unknown as number))
      .toThrow("muonUpdate: argument 9 (weightDecay) must be a number");
  });

  it("matmulInto, which Polar Express uses for its GEMM epilogues", () => {
    const a = E.randn([2, 3, 4]), b = E.randn([2, 4, 5]), out = E.ones([2, 3, 5]);
    expectClose(E.matmulInto(out, a, b, 2, 0.5), E.matmul(a, b).mul(2).add(0.5), 1e-6);
    expect(() => E.matmulInto(E.zeros([2, 3, 4]), a, b)).toThrow("matmulInto: expected out (..., M, N) = a (..., M, K) @ b (..., K, N)");
    expect(() => E.matmulInto(out, a, b.to("f64"))).toThrow(/all of one floating-point dtype/);
    const square = E.randn([2, 3, 3]);
    expect(() => E.matmulInto(square, square, square)).toThrow("matmulInto: out must be contiguous and share no storage with a or b");
  });

  it("the optimizer refuses parameters it cannot update in place", () => {
    const view = E.nn.Parameter([4, 6]).transpose(0, 1);
    expect(() => new E.Muon([{ params: [view], lr: 0.1, momentum: 0.9, weightDecay: 0 }]))
      .toThrow("Muon: parameters are updated in place and must be contiguous; got a view with strides [1, 6]");
  });
});
