import { describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { gradcheck, rand64 } from "../gradcheck.ts";

describe("reductions", () => {
  E.manualSeed(13);

  it("sum and mean over dims match a direct loop", () => {
    const x = rand64([2, 3, 4]);
    const v = x.toArray();
    const s = x.sum(1).toArray();
    for (let i = 0; i < 2; i++)
      for (let k = 0; k < 4; k++) {
        let acc = 0;
        for (let j = 0; j < 3; j++) acc += v[i * 12 + j * 4 + k];
        expect(s[i * 4 + k]).toBeCloseTo(acc, 12);
      }
    expect(x.sum().item()).toBeCloseTo(Array.from(v).reduce((a, b) => a + b, 0), 12);
    expect(x.mean([0, 2], true).shape).toEqual([1, 3, 1]);
    expect(x.norm().item()).toBeCloseTo(Math.hypot(...v), 12);
  });

  it.each([
    ["sum all", (x: E.Tensor) => x.sum()],
    ["sum dim", (x: E.Tensor) => x.sum(1)],
    ["sum dims keepdim", (x: E.Tensor) => x.sum([0, 2], true)],
    ["mean", (x: E.Tensor) => x.mean(-1)],
    ["norm", (x: E.Tensor) => x.norm([-2, -1], true)],
    ["sum of a view", (x: E.Tensor) => x.transpose(0, 2).sum(0)],
  ])("%s: gradient matches finite differences", (_name, f) => {
    gradcheck(f, [rand64([2, 3, 4])]);
  });
});
