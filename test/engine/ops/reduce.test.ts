import { describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { native } from "../../../src/engine/native.ts";
import { productSumToShape, sumToShape } from "../../../src/engine/ops/reduce.ts";
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

describe("productSumToShape (a broadcast multiplier's gradient)", () => {
  const shapes: [string, number[], number[]][] = [
    ["a scalar", [2, 5, 6], [1]],
    ["a per-row gate", [2, 5, 3, 4], [2, 5, 3, 1]],
    ["a middle run of dims", [3, 4, 5, 2], [3, 1, 1, 2]],
    ["dims that are not one run (formed then summed)", [3, 4, 5], [1, 4, 1]],
  ];
  it.each(shapes)("for %s equals summing g * x", (_name, full, shape) => {
    const g = E.randn(full), x = E.randn(full).to("bf16");
    const got = productSumToShape(g, x, shape);
    const want = sumToShape(g.mul(x), shape);
    expect(got.shape).toEqual(shape);
    expect(got.dtype).toBe("f32");
    const [a, b] = [got.toArray(), want.toArray()];
    for (let i = 0; i < b.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(b[i])));
  });

  it("allocates only its result, never g * x", () => {
    const g = E.randn([64, 256]), x = E.randn([64, 256]);
    const before = E.memoryStats("cpu").arenaUsedBytes;
    productSumToShape(g, x, [64, 1]);
    expect(E.memoryStats("cpu").arenaUsedBytes - before).toBe(256);  // 64 floats, one aligned block
  });

  it("the native op wants the wider input dtype for its output", () => {
    const a = E.zeros([4], { dtype: "bf16" }), b = E.zeros([4]), out = E.zeros([1], { dtype: "bf16" });
    expect(() => native.productSum(a.storage.id, 0, b.storage.id, 0, out.storage.id, 0, 1, 4, 1))
      .toThrow("productSum: expected out to be f32, got bf16");
  });

  it("gives mul's gradients for a scalar and a gate multiplier, by finite differences", () => {
    gradcheck((x, s) => x.mul(s), [rand64([3, 4, 5]), rand64([1])]);
    gradcheck((x, gate) => x.mul(gate), [rand64([2, 3, 4]), rand64([2, 3, 1])]);
  });
});
