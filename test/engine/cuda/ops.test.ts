// Every engine op on "cuda" against the CPU reference on fresh random inputs (skipped without a GPU).
import { afterEach, describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { native } from "../../../src/engine/native.ts";
import { productSumToShape } from "../../../src/engine/ops/reduce.ts";
import { expectSameOnDevices, hasCuda, onDevice, relativeError } from "./compare-devices.ts";

const { F } = E;
type Float = "f32" | "bf16";
const FLOATS: Float[] = ["f32", "bf16"];

const randn = (shape: number[], dtype: E.DType = "f32", scale = 1) => E.randn(shape).mul(scale).to(dtype).detach();
const ints = (n: number, bound: number) => E.tensor(Array.from({ length: n }, (_, i) => (i * 7919 + (i % 13) * 31) % bound), [n], { dtype: "i32" });

describe.skipIf(!hasCuda)("CUDA backend against the CPU reference", () => {
  E.manualSeed(2024);
  afterEach(() => E.resetArena());

  describe("memory and copies", () => {
    it("uploads and downloads every dtype unchanged", () => {
      for (const dtype of ["f32", "bf16", "i32", "f64"] as E.DType[]) {
        const t = dtype === "i32" ? ints(1000, 1 << 30) : randn([1000], dtype);
        expect(Array.from(onDevice(t, "cuda").toArray())).toEqual(Array.from(t.toArray()));
      }
    });

    it("fills, casts and copies strided views, including strided destinations", () => {
      for (const dtype of [...FLOATS, "f64"] as E.DType[]) {
        expectSameOnDevices([randn([5, 7, 9], dtype)], (x) => [x.permute(2, 0, 1).contiguous(), x.to("f32"), x.to("bf16"), x.to("i32")]);
        expectSameOnDevices([randn([6, 8], dtype), randn([6, 3], dtype)], (a, b) => {
          const out = E.zeros([6, 8], { dtype, device: a.device });
          out.slice(1, 2, 5).copy_(b);
          return [out, E.full([3, 4], -2.5, { dtype, device: a.device })];
        });
      }
    });

    it("draws the same random numbers from the same seed", () => {
      for (const dtype of [...FLOATS, "f64"] as E.DType[]) {
        E.manualSeed(7);
        const cpu = [E.randn([4099], { dtype }).toArray(), E.rand([4099], { dtype }).toArray()];
        E.manualSeed(7);
        const gpu = [E.randn([4099], { dtype, device: "cuda" }).toArray(), E.rand([4099], { dtype, device: "cuda" }).toArray()];
        expect(relativeError(gpu[0], cpu[0])).toBeLessThanOrEqual(1e-6);
        expect(relativeError(gpu[1], cpu[1])).toBeLessThanOrEqual(1e-6);
      }
    });

    it("names the request and what is held when the GPU is out of memory", () => {
      expect(() => native.alloc("cuda", 0, 2 ** 46, false)).toThrow(/out of GPU memory: could not allocate \d+ bytes.*holds.*free of/);
    });
  });

  describe("elementwise", () => {
    it.each(FLOATS)("broadcasts binary ops with their gradients (%s)", (dtype) => {
      const a = randn([4, 1, 6], dtype), b = randn([3, 1], dtype);
      expectSameOnDevices([a, b], (x, y) => [x.add(y), x.sub(y), x.mul(y), E.maximum(x, y)], { grad: true });
      expectSameOnDevices([a, b.abs().add(0.5)], (x, y) => x.div(y), { grad: true });
    });

    it.each(FLOATS)("handles lengths past a multiple of four and unaligned views, four lanes or one at a time (%s)", (dtype) => {
      for (const [n, start] of [[4099, 0], [4099, 1], [4097, 3]]) {
        // The views are cut on each device, so the offset survives the copy to the GPU.
        expectSameOnDevices([randn([n], dtype), randn([n], dtype)], (x, y) => {
          const a = x.slice(0, start, n), b = y.slice(0, start, n);
          return [a.add(b), a.mul(b.sum()), F.reluSquare(a), a.tanh(), a.to("f32"), a.to("bf16")];
        }, { grad: true });
      }
    });

    it("reads mixed float inputs as they are, in the wider dtype", () => {
      const a = randn([4, 1, 6], "bf16"), b = randn([3, 1], "f32");
      expectSameOnDevices([a, b], (x, y) => [x.add(y), y.sub(x), x.mul(y)], { grad: true });
    });

    it("scaledAdd matches the CPU with its gradients, x in f32 and y in bf16, the scales at offsets", () => {
      const x = randn([2, 64, 512]), y = randn([2, 64, 512], "bf16"), scales = randn([8]);
      expectSameOnDevices([x, scales, y], (a, s, b) => F.scaledAdd(a, s.slice(0, 3, 4), b, s.slice(0, 5, 6)), { grad: true });
    });

    it("sums a broadcast multiplier's gradient in one pass: a scalar, a gate, a middle run", () => {
      const x = randn([2, 64, 4, 128], "bf16"), scalar = randn([1]), gate = randn([2, 64, 4, 1], "bf16"), mid = randn([2, 1, 1, 128]);
      expectSameOnDevices([x, scalar, gate, mid], (t, s, g, m) => [t.mul(s), t.mul(g), t.mul(m)], { grad: true });
      const g = randn([2, 4096, 8]), y = randn([2, 4096, 8], "bf16");  // long enough for two passes
      expectSameOnDevices([g, y], (a, b) => [productSumToShape(a, b, [1]), productSumToShape(a, b, [2, 1, 8])]);
    });

    it.each(FLOATS)("applies every unary op and its derivative (%s)", (dtype) => {
      const x = randn([3, 1000], dtype, 2);
      const pos = x.abs().add(0.1);
      expectSameOnDevices([x], (t) => [t.neg(), t.relu(), t.square(), t.tanh(), t.sigmoid(), t.exp(), t.abs(), t.add(1.5), t.mul(-3),
        F.reluSquare(t), F.softcap(t, 1.5)], { grad: true });
      expectSameOnDevices([pos], (t) => [t.rsqrt(), t.log(), t.sqrt(), t.pow(1.7)], { grad: true });
      expectSameOnDevices([x], (t) => [E.step(t), t.div(3)]);
    });
  });

  describe("reductions", () => {
    it.each(FLOATS)("sums over leading, middle, last and all dims (%s)", (dtype) => {
      const x = randn([5, 37, 70], dtype);
      expectSameOnDevices([x], (t) => [t.sum(0), t.sum(1), t.sum(2), t.sum([0, 2]), t.sum(), t.mean(-1, true)], { grad: true });
    });

    it("splits long reductions into chunks without losing accuracy", () => {
      expectSameOnDevices([randn([3, 200_000])], (t) => [t.sum(1), t.sum()]);
      expectSameOnDevices([randn([150_000, 3])], (t) => t.sum(0));
    });

    it("takes maxima like the CPU, NaN included", () => {
      for (const dtype of ["f32", "f64"] as E.DType[]) {
        const values = randn([4, 5000, 3], dtype).toArray();
        values[2 * 5000 * 3 + 7] = NaN;
        const x = E.tensor(values, [4, 5000, 3], { dtype });
        const maxOf = (t: E.Tensor, outer: number, r: number, inner: number) => {
          const out = E.Tensor.empty([outer * inner], t.dtype, t.device);
          native.reduce(1, t.storage.id, t.offset, out.storage.id, 0, outer, r, inner);
          return out;
        };
        expectSameOnDevices([x], (t) => [maxOf(t, 4, 5000, 3), maxOf(t, 4 * 5000, 3, 1), maxOf(t, 1, 60000, 1)]);
      }
    });
  });

  describe("matmul", () => {
    it.each(FLOATS)("multiplies plain, transposed, batched and broadcast operands (%s)", (dtype) => {
      const tol = dtype === "bf16" ? 2e-2 : 1e-5;
      expectSameOnDevices([randn([33, 65], dtype), randn([65, 17], dtype)], (a, b) => a.matmul(b), { grad: true, tol });
      expectSameOnDevices([randn([65, 33], dtype), randn([17, 65], dtype)], (a, b) => a.T.matmul(b.T), { grad: true, tol });
      expectSameOnDevices([randn([3, 40, 24], dtype), randn([3, 24, 56], dtype)], (a, b) => a.matmul(b), { grad: true, tol });
      expectSameOnDevices([randn([2, 5, 40, 64], dtype), randn([48, 64], dtype)], (x, w) => F.linear(x, w), { grad: true, tol });
    });

    it("reads views at offsets that break 16-byte alignment", () => {
      expectSameOnDevices([randn([9, 64], "bf16"), randn([64, 40], "bf16")], (a, b) => a.slice(0, 1, 9).matmul(b.slice(1, 3, 35)));
    });
  });

  describe("model ops", () => {
    it.each(FLOATS)("gathers and scatter-adds embeddings with repeated indices (%s)", (dtype) => {
      const idx = ints(3000, 50).reshape(30, 100);
      expectSameOnDevices([randn([50, 96], dtype), idx], (w, i) => F.embedding(i, w), { grad: true });
    });

    it("reports an out-of-range embedding index at the next synchronisation", () => {
      const w = randn([10, 4]).to("f32");
      const bad = E.tensor([1, 99, 2], [3], { dtype: "i32" });
      for (const device of ["cpu", "cuda"] as E.Device[]) {
        expect(() => F.embedding(onDevice(bad, device), onDevice(w, device)).toArray()).toThrow(/index 99 at position 1 is out of range \[0, 10\)/);
      }
      expect(F.embedding(onDevice(ints(3, 10), "cuda"), onDevice(w, "cuda")).toArray().length).toBe(12);  // the flag was cleared
    });

    it.each(FLOATS)("normalises rows with rms_norm (%s)", (dtype) => {
      expectSameOnDevices([randn([64, 512], dtype, 3)], (x) => F.rmsNorm(x), { grad: true });
      expectSameOnDevices([randn([33, 7], dtype)], (x) => F.rmsNorm(x), { grad: true });
    });

    it.each(FLOATS)("rotates heads with rotary embeddings (%s)", (dtype) => {
      const [T, D] = [37, 64];
      const angles = Array.from({ length: T * (D / 2) }, (_, i) => Math.floor(i / (D / 2)) / 10000 ** ((2 * (i % (D / 2))) / D));
      const cos = E.tensor(angles.map(Math.cos), [T, D / 2], { dtype }), sin = E.tensor(angles.map(Math.sin), [T, D / 2], { dtype });
      expectSameOnDevices([randn([2, T, 3, D], dtype), cos, sin], (x, c, s) => F.applyRotary(x, c.detach(), s.detach()), { grad: true });
    });

    it.each(FLOATS)("computes softmax and log-softmax (%s)", (dtype) => {
      expectSameOnDevices([randn([20, 1000], dtype, 3)], (x) => [F.softmax(x), F.logSoftmax(x)], { grad: true });
    });

    it.each([["f32", 0], ["f32", 15], ["bf16", 15]] as [Float, number][])("fuses softcap into cross-entropy (%s logits, softcap %d)", (dtype, softcap) => {
      const targets = ints(300, 1000);
      const t = targets.toArray();
      t[5] = -1;
      t[77] = -1;
      const withIgnored = E.tensor(t, [300], { dtype: "i32" });
      expectSameOnDevices([randn([300, 1000], dtype, 20), withIgnored], (x, y) =>
        [F.crossEntropy(x, y, { ignoreIndex: -1, softcap, reduction: "none" }), F.crossEntropy(x, y, { ignoreIndex: -1, softcap })],
        { grad: true });
    });

    it("reports an out-of-range target at the next synchronisation", () => {
      const logits = randn([3, 100]);
      const bad = E.tensor([1, 5000, 2], [3], { dtype: "i32" });
      for (const device of ["cpu", "cuda"] as E.Device[]) {
        expect(() => F.crossEntropy(onDevice(logits, device), onDevice(bad, device)).item()).toThrow(/target 5000 at row 1 is out of range \[0, 100\)/);
      }
    });
  });

  describe("attention", () => {
    // D 64/128 in bf16 take the tensor-core kernels, the rest the exact fallback. T = 150 leaves
    // partial blocks; windows cover full causal, a block-aligned band, an unaligned band and 0.
    const cases: [Float, number, number, number][] = [
      ["bf16", 128, 150, 150], ["bf16", 128, 150, 64], ["bf16", 64, 150, 37], ["bf16", 64, 150, 0],
      ["bf16", 64, 64, 64], ["bf16", 32, 70, 70], ["f32", 64, 150, 37], ["f32", 16, 40, 40],
    ];
    it.each(cases)("%s D=%d T=%d window=%d forward and backward", (dtype, D, T, window) => {
      const qkv = [0, 1, 2].map(() => randn([2, T, 3, D], dtype));
      expectSameOnDevices(qkv, (q, k, v) => F.attention(q, k, v, { window }), { grad: true });
    });

    it("skips what a sliding window hides: far keys do not change the output", () => {
      const [T, D, window] = [256, 128, 64];
      const [q, k, v] = [0, 1, 2].map(() => onDevice(randn([1, T, 2, D], "bf16"), "cuda"));
      const base = F.attention(q, k, v, { window }).toArray();
      const k2 = k.toArray();
      for (let t = 0; t < 64; t++) for (let c = 0; c < 2 * D; c++) k2[t * 2 * D + c] = 1e4;  // keys 0..63, unseen from t >= 128
      const moved = F.attention(q, E.tensor(k2, k.shape, { dtype: "bf16", device: "cuda" }), v, { window }).toArray();
      expect(relativeError(moved.slice(128 * 2 * D), base.slice(128 * 2 * D))).toBe(0);
    });
  });

  describe("optimizers", () => {
    it("takes the same AdamW and Muon steps", () => {
      const step = (device: E.Device) => {
        E.manualSeed(99);
        const p = E.persistent(() => [E.randn([64, 32], { device }), E.randn([64, 32], { device }), E.randn([100], { device })]);
        for (const t of p) t.requiresGrad_();
        const grads = [E.randn([64, 32]), E.randn([64, 32]), E.randn([100])];
        const adamw = new E.AdamW([{ params: [p[2]], lr: 0.01, betas: [0.8, 0.95], eps: 1e-10, weightDecay: 0.1 }]);
        const muon = new E.Muon([{ params: [p[0], p[1]], lr: 0.04, momentum: 0.95, weightDecay: 0.2, polarExpressDtype: "f32" }]);
        for (let s = 0; s < 3; s++) {
          p.forEach((t, i) => t.accumulateGrad(onDevice(grads[i].mul(s + 1), device)));
          adamw.step();
          muon.step();
          for (const t of p) t.grad!.zero_();
        }
        return p.map((t) => t.toArray());
      };
      const cpu = step("cpu"), gpu = step("cuda");
      cpu.forEach((ref, i) => expect(relativeError(gpu[i], ref), `parameter ${i}`).toBeLessThanOrEqual(1e-4));
    });
  });
});
