import { describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { bf16ToFloats, floatsToBf16 } from "../../../src/engine/bf16.ts";

// A plain-array reference of the reference Muon step, written from REFERENCE.md.
type Mat = number[][];
const zerosM = (r: number, c: number): Mat => Array.from({ length: r }, () => new Array(c).fill(0));
const T = (a: Mat): Mat => a[0].map((_, j) => a.map((row) => row[j]));
const mm = (a: Mat, b: Mat): Mat => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
const lin = (a: Mat, b: Mat, x: number, y: number): Mat => a.map((row, i) => row.map((v, j) => x * v + y * b[i][j]));
const fromFlat = (f: ArrayLike<number>, r: number, c: number): Mat => Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => f[i * c + j]));

const normalized = (g: Mat): Mat => {
  const fro = Math.sqrt(g.flat().reduce((s, v) => s + v * v, 0));
  return g.map((row) => row.map((v) => v / (fro * 1.02 + 1e-6)));
};

function polar(g: Mat): Mat {
  const rows = g.length, cols = g[0].length;
  let X = normalized(g);
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

const bf16 = (m: Mat): Mat => m.map((row) => Array.from(bf16ToFloats(floatsToBf16(row))));

// Polar Express in bf16, rounded where optim/muon.ts rounds: X, A, A + (a/b)I (with a/b in bf16),
// B = aI + bA + cA^2 and each new X; in exact arithmetic this is polar() above.
function polarBf16(g: Mat): Mat {
  const tall = g.length > g[0].length;
  let X = bf16(normalized(g));
  for (const [a, b, c] of E.POLAR_EXPRESS_COEFFS) {
    const A = bf16(tall ? mm(T(X), X) : mm(X, T(X)));
    const shift = bf16([[a / b]])[0][0];
    const B = bf16(lin(mm(A, A), bf16(A.map((row, i) => row.map((v, j) => (i === j ? v + shift : v)))), c, b));
    X = bf16(tall ? mm(X, B) : mm(B, X));
  }
  return X;
}

function referenceStep(P: Mat[], G: Mat[], buf: Mat[], sm: number[][], lr0: number, mu: number, wd: number, beta2: number,
  orthogonalise = polar): void {
  const rows = P[0].length, cols = P[0][0].length;
  const rowWise = rows >= cols;
  const n = rowWise ? cols : rows;
  const Xs = P.map((_, k) => {
    buf[k] = lin(buf[k], G[k], mu, 1 - mu);
    return orthogonalise(lin(G[k], buf[k], 1 - mu, mu));
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

/**
 * Two steps of a two-matrix group against referenceStep, with momentum changing between them: the
 * largest difference from the reference's parameters.
 */
function twoStepsError(rows: number, cols: number, dtype: E.DType, polarExpressDtype: E.DType, orthogonalise: (g: Mat) => Mat): number {
  E.manualSeed(22);
  const params = [0, 1].map(() => E.normal_(E.nn.Parameter([rows, cols], dtype), 0, 0.5));
  const opt = new E.Muon([{ params, lr: 0.04, momentum: 0.85, weightDecay: 0.2, polarExpressDtype }]);
  const P = params.map((p) => fromFlat(p.toArray(), rows, cols));
  const buf = [zerosM(rows, cols), zerosM(rows, cols)];
  const sm = [0, 1].map(() => new Array(rows >= cols ? rows : cols).fill(0));
  let error = 0;
  for (let s = 0; s < 2; s++) {
    const grads = params.map(() => E.randn([rows, cols], { dtype }));
    params.forEach((p, k) => (p.grad = grads[k]));
    opt.paramGroups[0].momentum = 0.85 + 0.05 * s;
    opt.step();
    referenceStep(P, grads.map((g) => fromFlat(g.toArray(), rows, cols)), buf, sm, 0.04, 0.85 + 0.05 * s, 0.2, 0.95, orthogonalise);
    params.forEach((p, k) => p.toArray().forEach((v, i) => (error = Math.max(error, Math.abs(v - P[k][Math.floor(i / cols)][i % cols])))));
  }
  return error;
}

describe("Muon", () => {
  it.each([[3, 5, "wide"], [5, 3, "tall"], [4, 4, "square"], [24, 40, "wide"], [40, 24, "tall"]])(
    "%ix%i (%s): two f64 steps match the reference step by step", (rows, cols) => {
      expect(twoStepsError(rows, cols, "f64", "f64", polar)).toBeLessThan(1e-10);
    });

  // Small shapes, so that f32 accumulation (here) and f64 (the reference) round every value to the
  // same bf16: on larger ones an occasional tie rounds differently, and Polar Express amplifies it.
  it.each([[3, 5, "wide"], [5, 3, "tall"], [4, 4, "square"]])(
    "%ix%i (%s): bf16 Polar Express matches a reference that rounds to bf16 where it does", (rows, cols) => {
      expect(twoStepsError(rows, cols, "f32", "bf16", polarBf16)).toBeLessThan(1e-6);
      // ...and it really rounds: the unrounded reference is a bf16 rounding away.
      expect(twoStepsError(rows, cols, "f32", "bf16", polar)).toBeGreaterThan(1e-4);
    });

  it("orthogonalises in bf16 unless a group says otherwise", () => {
    const opt = new E.Muon([{ params: [E.nn.Parameter([2, 3])], lr: 0.1, momentum: 0.9, weightDecay: 0 }]);
    expect(opt.paramGroups[0].polarExpressDtype).toBe("bf16");
    expect(() => new E.Muon([{ params: [E.nn.Parameter([2, 3])], lr: 0.1, momentum: 0.9, weightDecay: 0, polarExpressDtype: "i32" }]))
      .toThrow("Muon: polarExpressDtype must be a floating-point dtype, got i32");
  });

  it("Polar Express, in bf16 by default, drives singular values towards one", () => {
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
