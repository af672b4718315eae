import { describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { gradcheck, rand64 } from "../gradcheck.ts";

describe("elementwise ops", () => {
  E.manualSeed(11);

  it.each([
    ["add", (a: E.Tensor, b: E.Tensor) => a.add(b)],
    ["sub", (a: E.Tensor, b: E.Tensor) => a.sub(b)],
    ["mul", (a: E.Tensor, b: E.Tensor) => a.mul(b)],
    ["div", (a: E.Tensor, b: E.Tensor) => a.div(b.square().add(0.5))],
  ])("%s: gradients match finite differences with broadcasting", (_name, f) => {
    gradcheck(f, [rand64([2, 3, 4]), rand64([3, 1])]);
    gradcheck(f, [rand64([4]), rand64([2, 1, 4])]);
    gradcheck(f, [rand64([2, 3]), rand64([])]);
  });

  it("binary ops read non-contiguous views", () => {
    const a = rand64([3, 4]);
    const b = rand64([4, 3]);
    gradcheck((x, y) => x.mul(y.transpose(0, 1)), [a, b]);
    const got = a.add(b.transpose(0, 1)).toArray();
    const av = a.toArray(), bv = b.toArray();
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) expect(got[i * 4 + j]).toBeCloseTo(av[i * 4 + j] + bv[j * 3 + i], 12);
  });

  it.each([
    ["relu", (x: E.Tensor) => x.relu()],
    ["square", (x: E.Tensor) => x.square()],
    ["tanh", (x: E.Tensor) => x.tanh()],
    ["sigmoid", (x: E.Tensor) => x.sigmoid()],
    ["rsqrt", (x: E.Tensor) => x.abs().add(0.5).rsqrt()],
    ["sqrt", (x: E.Tensor) => x.square().add(0.5).sqrt()],
    ["exp", (x: E.Tensor) => x.exp()],
    ["log", (x: E.Tensor) => x.square().add(0.1).log()],
    ["pow", (x: E.Tensor) => x.abs().add(0.5).pow(1.7)],
    ["neg", (x: E.Tensor) => x.neg()],
    ["scalar ops", (x: E.Tensor) => x.mul(3).add(2).sub(1).div(4)],
    ["reluSquare", (x: E.Tensor) => E.reluSquare(x)],
    ["softcap", (x: E.Tensor) => E.softcap(x.mul(10), 15)],
  ])("%s: gradient matches finite differences", (_name, f) => {
    // Keep inputs away from relu's kink so central differences are valid.
    const x = E.tensor([-1.3, -0.4, 0.35, 0.9, 1.7, -2.2, 0.6, 1.1], [2, 4], { dtype: "f64" });
    gradcheck(f, [x]);
    gradcheck((y) => f(y.transpose(0, 1)), [E.tensor([-1.3, -0.4, 0.35, 0.9, 1.7, -2.2, 0.6, 1.1], [2, 4], { dtype: "f64" })]);
  });

  it("unary forward values match Math", () => {
    const vals = [-1.5, -0.2, 0.3, 2];
    const x = E.tensor(vals, [4], { dtype: "f64" });
    const check = (t: E.Tensor, fn: (v: number) => number) => t.toArray().forEach((v, i) => expect(v).toBeCloseTo(fn(vals[i]), 12));
    check(x.tanh(), Math.tanh);
    check(x.sigmoid(), (v) => 1 / (1 + Math.exp(-v)));
    check(x.relu(), (v) => Math.max(v, 0));
    check(E.reluSquare(x), (v) => Math.max(v, 0) ** 2);
    check(E.softcap(x, 1.5), (v) => 1.5 * Math.tanh(v / 1.5));
    check(E.step(x), (v) => (v >= 0 ? 1 : 0));
    check(E.maximum(x, 0.25), (v) => Math.max(v, 0.25));
  });

  it("bf16 round-trips to the nearest representable value", () => {
    const x = E.tensor([1, 1.00390625, 3.14159, -2.5e-3], [4], { dtype: "bf16" });
    const back = x.toArray();
    expect(back[0]).toBe(1);
    expect(back[1]).toBe(1); // ties round to even
    expect(back[2]).toBeCloseTo(3.140625, 6);
    expect(x.to("f32").add(1).to("bf16").dtype).toBe("bf16");
  });
});

describe("scaledAdd: a * x + b * y in one pass", () => {
  it("gradients match finite differences, the scales read at offsets into a vector", () => {
    gradcheck((x, s, y) => E.F.scaledAdd(x, s.slice(0, 1, 2), y, s.slice(0, 2, 3)), [rand64([2, 3, 4]), rand64([3]), rand64([2, 3, 4])]);
  });

  it("equals x.mul(a).add(y.mul(b)) with y in bf16, as one traced op with one result buffer", () => {
    const x = E.randn([64, 32]), y = E.randn([64, 32]).to("bf16"), a = E.tensor([0.7], [1]), b = E.tensor([-1.3], [1]);
    const ops: string[] = [];
    const previous = E.setTraceHook((op) => ops.push(op));
    const before = E.memoryStats("cpu").arenaUsedBytes;
    const fused = E.F.scaledAdd(x, a, y, b);
    const used = E.memoryStats("cpu").arenaUsedBytes - before;
    E.setTraceHook(previous);
    expect(ops).toEqual(["scaled_add"]);
    expect(used).toBe(64 * 32 * 4);
    expect(fused.dtype).toBe("f32");
    const [got, want] = [fused.toArray(), x.mul(a).add(y.mul(b)).toArray()];
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(want[i])));
  });

  it("names what is wrong", () => {
    const x = E.zeros([2, 3]);
    expect(() => E.F.scaledAdd(x, E.ones([2]), x, E.ones([1]))).toThrow("scaled_add: a and b must have one element each");
    expect(() => E.F.scaledAdd(x, E.ones([1]), E.zeros([3, 2]), E.ones([1]))).toThrow("scaled_add: x and y must have one shape, got [2, 3] and [3, 2]");
  });
});
