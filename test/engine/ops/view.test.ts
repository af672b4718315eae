import { describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { gradcheck, rand64 } from "../gradcheck.ts";

describe("view, copy and concat ops", () => {
  E.manualSeed(12);

  it("reshape, transpose and permute are views with correct values", () => {
    const x = E.tensor([0, 1, 2, 3, 4, 5], [2, 3], { dtype: "f64" });
    expect(Array.from(x.transpose(0, 1).toArray())).toEqual([0, 3, 1, 4, 2, 5]);
    expect(x.transpose(0, 1).storage).toBe(x.storage);
    expect(x.reshape(3, -1).shape).toEqual([3, 2]);
    const y = E.arange(24, { dtype: "f64" }).reshape(2, 3, 4).permute(2, 0, 1);
    expect(y.shape).toEqual([4, 2, 3]);
    expect(y.toArray()[1]).toBe(4); // y[0,0,1] = x[0,1,0]
  });

  it("slice views the right elements and negative bounds count from the end", () => {
    const x = E.arange(12, { dtype: "f64" }).reshape(3, 4);
    expect(Array.from(x.slice(1, 1, 3).toArray())).toEqual([1, 2, 5, 6, 9, 10]);
    expect(Array.from(x.slice(0, -1, 3).toArray())).toEqual([8, 9, 10, 11]);
  });

  it.each([
    ["reshape", (x: E.Tensor) => x.reshape(4, 3)],
    ["transpose", (x: E.Tensor) => x.transpose(0, 1).mul(x.transpose(0, 1))],
    ["permute", (x: E.Tensor) => x.reshape(2, 2, 3).permute(2, 0, 1)],
    ["slice", (x: E.Tensor) => x.slice(1, 1, 3).square()],
    ["expand", (x: E.Tensor) => x.slice(0, 0, 1).expand(5, 3, 4)],
    ["unsqueeze/squeeze", (x: E.Tensor) => x.unsqueeze(1).squeeze(1).mul(2)],
    ["contiguous of a view", (x: E.Tensor) => x.transpose(0, 1).contiguous()],
    ["cast round trip", (x: E.Tensor) => x.to("f32").to("f64").mul(x)],
  ])("%s: gradient matches finite differences", (_name, f) => {
    // Through f32 the differences need a larger step and tolerance.
    const lossy = _name === "cast round trip";
    gradcheck(f, [rand64([3, 4])], lossy ? { eps: 1e-3, tol: 1e-3 } : {});
  });

  it("concat and stack: values and gradients", () => {
    const a = E.tensor([1, 2], [1, 2], { dtype: "f64" });
    const b = E.tensor([3, 4, 5, 6], [2, 2], { dtype: "f64" });
    expect(Array.from(E.concat([a, b], 0).toArray())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(E.concat([b, b], 1).toArray())).toEqual([3, 4, 3, 4, 5, 6, 5, 6]);
    expect(E.stack([a, a], 0).shape).toEqual([2, 1, 2]);
    gradcheck((x, y) => E.concat([x, y], 1), [rand64([2, 3]), rand64([2, 2])]);
    gradcheck((x, y) => E.stack([x, y], 1), [rand64([2, 3]), rand64([2, 3])]);
  });

  it("copy_ broadcasts and converts in place", () => {
    const dst = E.zeros([2, 3], { dtype: "f32" });
    dst.copy_(E.tensor([1, 2, 3], [3], { dtype: "f64" }));
    expect(Array.from(dst.toArray())).toEqual([1, 2, 3, 1, 2, 3]);
    const view = E.zeros([3, 2], { dtype: "f64" });
    view.transpose(0, 1).copy_(E.tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype: "f64" }));
    expect(Array.from(view.toArray())).toEqual([1, 4, 2, 5, 3, 6]);
  });
});
