import { describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";

// A plain-array reference of the reference Muon step, written from REFERENCE.md.
type Mat = number[][];
const zerosM = (r: number, c: number): Mat => Array.from({ length: r }, () => new Array(c).fill(0));
const T = (a: Mat): Mat => a[0].map((_, j) => a.map((row) => row[j]));
const mm = (a: Mat, b: Mat): Mat => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
const lin = (a: Mat, b: Mat, x: number, y: number): Mat => a.map((row, i) => row.map((v, j) => x * v + y * b[i][j]));
const fromFlat = (f: ArrayLike<number>, r: number, c: number): Mat => Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => f[i * c + j]));

function polar(g: Mat): Mat {
  const rows = g.length, cols = g[0].length;
  const fro = Math.sqrt(g.flat().reduce((s, v) => s + v * v, 0));
  let X = g.map((row) => row.map((v) => v / (fro * 1.02 + 1e-6)));
  for (const [a, b, c] of E.POLAR_EXPRESS_COEFFS) {
    if (rows > cols) {
      const A = mm(T(X), X);
      const B = lin(A, mm(A, A), b, c);
      X = lin(X, mm(X, B), a, 1);
    } else {
      const A = mm(X, T(X));
      const B = lin(A, mm(A, A), b, c);
      X = lin(X, mm(B, X), a, 1);
    }
  }
  return X;
}

function referenceStep(P: Mat[], G: Mat[], buf: Mat[], sm: number[][], lr0: number, mu: number, wd: number, beta2: number): void {
  const rows = P[0].length, cols = P[0][0].length;
  const rowWise = rows >= cols;
  const n = rowWise ? cols : rows;
  const Xs = P.map((_, k) => {
    buf[k] = lin(buf[k], G[k], mu, 1 - mu);
    return polar(lin(G[k], buf[k], 1 - mu, mu));
  });
  Xs.forEach((X, k) => {
    const vMean = rowWise ? X.map((r) => r.reduce((s, v) => s + v * v, 0) / n) : T(X).map((c) => c.reduce((s, v) => s + v * v, 0) / n);
    const vNorm = Math.sqrt(vMean.reduce((s, v) => s + v, 0) * n);
    sm[k] = sm[k].map((s, i) => s + (vMean[i] - s) * (1 - beta2));
    const step = sm[k].map((s) => 1 / Math.sqrt(Math.max(s, 1e-10)));
    const vNormNew = Math.sqrt(vMean.reduce((s, v, i) => s + v * n * step[i] * step[i], 0));
    const lr = lr0 * Math.max(1, rows / cols) ** 0.5;
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) {
        const x = X[i][j] * step[rowWise ? i : j] * (vNorm / Math.max(vNormNew, 1e-10));
        const mask = x * P[k][i][j] >= 0 ? 1 : 0;
        P[k][i][j] -= lr * x + lr * wd * P[k][i][j] * mask;
      }
  });
}

describe("Muon", () => {
  it.each([
    [3, 5, "wide"],
    [5, 3, "tall"],
    [4, 4, "square"],
  ])("%ix%i (%s): two steps match the reference step by step", (rows, cols) => {
    E.manualSeed(22);
    const params = [0, 1].map(() => E.normal_(E.nn.Parameter([rows, cols], "f64"), 0, 0.5));
    const opt = new E.Muon([{ params, lr: 0.04, momentum: 0.85, weightDecay: 0.2 }]);
    const P = params.map((p) => fromFlat(p.toArray(), rows, cols));
    const buf = [zerosM(rows, cols), zerosM(rows, cols)];
    const sm = [0, 1].map(() => new Array(rows >= cols ? rows : cols).fill(0));
    for (let s = 0; s < 2; s++) {
      const grads = params.map(() => E.randn([rows, cols], { dtype: "f64" }));
      params.forEach((p, k) => (p.grad = grads[k]));
      opt.paramGroups[0].momentum = 0.85 + 0.05 * s;
      opt.step();
      referenceStep(P, grads.map((g) => fromFlat(g.toArray(), rows, cols)), buf, sm, 0.04, 0.85 + 0.05 * s, 0.2, 0.95);
      params.forEach((p, k) => p.toArray().forEach((v, i) => expect(v).toBeCloseTo(P[k][Math.floor(i / cols)][i % cols], 10)));
    }
  });

  it("Polar Express drives singular values towards one", () => {
    E.manualSeed(23);
    const g = E.randn([1, 16, 8], { dtype: "f64" });
    const X = E.polarExpress(g);
    const XtX = E.matmul(X.transpose(-2, -1), X).toArray();
    for (let i = 0; i < 8; i++) expect(XtX[i * 8 + i]).toBeGreaterThan(0.5);
    for (let i = 0; i < 8; i++) expect(XtX[i * 8 + i]).toBeLessThan(1.5);
  });

  it("refuses groups whose shapes differ", () => {
    expect(() => new E.Muon([{ params: [E.nn.Parameter([2, 3]), E.nn.Parameter([3, 2])], lr: 0.1, momentum: 0.9, weightDecay: 0 }]))
      .toThrow("Muon: every parameter of a group must share one shape; got [2, 3] and [3, 2]");
  });
});
