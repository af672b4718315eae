import { describe, expect, it } from "vitest";
import * as E from "../../src/engine/index.ts";
import { native } from "../../src/engine/native.ts";

describe("autocast and type promotion", () => {
  it("runs matmuls in bf16 inside autocast and sends fp32 gradients to fp32 weights", () => {
    E.manualSeed(31);
    const x = E.randn([4, 8]);
    const w = E.nn.Parameter([3, 8]);
    E.normal_(w);
    const y = E.autocast("bf16", () => E.F.linear(x, w));
    expect(y.dtype).toBe("bf16");
    expect(E.autocastDtype()).toBeNull();
    y.to("f32").sum().backward();
    expect(w.grad!.dtype).toBe("f32");
    // d(sum(x w^T))/dw[j, k] = sum_i x[i, k], up to bf16 rounding of x.
    const xv = x.toArray(), g = w.grad!.toArray();
    for (let k = 0; k < 8; k++) {
      const col = [0, 1, 2, 3].reduce((s, i) => s + xv[i * 8 + k], 0);
      expect(Math.abs(g[k] - col)).toBeLessThan(0.05 * Math.max(1, Math.abs(col)));
    }
  });

  it("promotes mixed float inputs to the wider dtype, and casts back in backward", () => {
    const a = E.tensor([1.5, 2.5], [2], { dtype: "bf16" }).requiresGrad_();
    const b = E.tensor([0.25, 4], [2], { dtype: "f32" }).requiresGrad_();
    const c = a.mul(b);
    expect(c.dtype).toBe("f32");
    expect(Array.from(c.toArray())).toEqual([0.375, 10]);
    c.sum().backward();
    expect(a.grad!.dtype).toBe("bf16");
    expect(Array.from(a.grad!.toArray())).toEqual([0.25, 4]);
    expect(Array.from(b.grad!.toArray())).toEqual([1.5, 2.5]);
  });

  it("reads mixed inputs as they are, without a promoted copy", () => {
    const a = E.randn([64, 64]).to("bf16"), b = E.randn([64, 64]);
    const ops: string[] = [];
    const previous = E.setTraceHook((op) => ops.push(op));
    const before = E.memoryStats("cpu").arenaUsedBytes;
    const c = a.add(b);
    E.setTraceHook(previous);
    expect(ops).toEqual(["add"]);
    expect(E.memoryStats("cpu").arenaUsedBytes - before).toBe(64 * 64 * 4);
    const [av, bv, cv] = [a.toArray(), b.toArray(), c.toArray()];
    for (let i = 0; i < cv.length; i++) expect(cv[i]).toBe(Math.fround(av[i] + bv[i]));
  });

  it("the native binary op wants the wider input dtype for its output", () => {
    const a = E.zeros([4], { dtype: "bf16" }), b = E.zeros([4]), out = E.zeros([4], { dtype: "bf16" });
    expect(() => native.binary(0, a.storage.id, 0, [1], b.storage.id, 0, [1], out.storage.id, 0, [4]))
      .toThrow("binary: expected out to be f32, got bf16");
  });

  it("attention takes the autocast dtype inside autocast and the widest input dtype outside", () => {
    const shape = [1, 4, 2, 8];
    const q = E.randn(shape).to("bf16"), k = E.randn(shape).to("bf16"), v = E.randn(shape);
    expect(E.F.attention(q, k, v).dtype).toBe("f32");
    expect(E.autocast("bf16", () => E.F.attention(q, k, v)).dtype).toBe("bf16");
  });
});
