import { describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";

describe("AdamW", () => {
  it("matches a step-by-step reference over several steps with decay and bias correction", () => {
    E.manualSeed(21);
    const p = E.nn.Parameter([5], "f64");
    E.normal_(p);
    const lr = 0.01, b1 = 0.8, b2 = 0.95, eps = 1e-10, wd = 0.1;
    const opt = new E.AdamW([{ params: [p], lr, betas: [b1, b2], eps, weightDecay: wd }]);
    const ref = Array.from(p.toArray());
    const m = new Array(5).fill(0), v = new Array(5).fill(0);
    for (let t = 1; t <= 4; t++) {
      const g = E.randn([5], { dtype: "f64" });
      p.grad = g;
      opt.step();
      const gv = g.toArray();
      for (let i = 0; i < 5; i++) {
        ref[i] *= 1 - lr * wd;
        m[i] = m[i] + (gv[i] - m[i]) * (1 - b1);
        v[i] = v[i] + (gv[i] * gv[i] - v[i]) * (1 - b2);
        ref[i] -= (lr / (1 - b1 ** t)) * m[i] / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps);
      }
      p.toArray().forEach((x, i) => expect(x).toBeCloseTo(ref[i], 12));
      p.grad = null;
    }
  });

  it("rejects bad hyperparameters by name", () => {
    expect(() => new E.AdamW([{ params: [], lr: -1, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0 }])).toThrow("AdamW: expected `lr` to be a number >= 0, got -1");
  });
});
