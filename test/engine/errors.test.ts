import { describe, expect, it } from "vitest";
import * as E from "../../src/engine/index.ts";
import { native } from "../../src/engine/native.ts";

const { F } = E;

describe("bad input gets an error that names the op, shapes and dtypes", () => {
  it("shape mismatch", () => {
    expect(() => E.zeros([2, 3]).add(E.zeros([4]))).toThrow("add: shapes [2, 3] and [4] cannot be broadcast together (inputs: [2, 3] f32, [4] f32)");
    expect(() => E.matmul(E.zeros([2, 3]), E.zeros([4, 5]))).toThrow(/matmul: inner dims differ: \[2, 3\] @ \[4, 5\]/);
    expect(() => E.zeros([6]).reshape(4, -1)).toThrow(/reshape: cannot reshape \[6\]/);
  });

  it("wrong dtype", () => {
    expect(() => E.matmul(E.zeros([2, 2]), E.zeros([2, 2], { dtype: "f64" }))).toThrow("matmul: dtypes must match, got f32 and f64");
    expect(() => F.embedding(E.zeros([3]), E.zeros([4, 2]))).toThrow("embedding: indices must be i32, got f32 (inputs: [3] f32, [4, 2] f32)");
    expect(() => F.crossEntropy(E.zeros([2, 3]), E.zeros([2]))).toThrow(/cross_entropy: targets must be i32, got f32/);
  });

  it("out-of-range indices in embedding and cross-entropy targets", () => {
    const idx = E.tensor([1, 7], [2], { dtype: "i32" });
    expect(() => F.embedding(idx, E.zeros([5, 2]))).toThrow("embedding: index 7 at position 1 is out of range [0, 5)");
    const t = E.tensor([0, -3], [2], { dtype: "i32" });
    expect(() => F.crossEntropy(E.zeros([2, 4]), t, { ignoreIndex: -1 })).toThrow(/cross_entropy: target -3 at row 1 is out of range \[0, 4\)/);
  });

  it("backward on a non-scalar without a gradient", () => {
    const x = E.zeros([3]).requiresGrad_();
    expect(() => x.mul(2).backward()).toThrow(/backward: called on a non-scalar tensor \[3\] without a gradient/);
    expect(() => E.zeros([1]).backward()).toThrow(/does not require grad/);
  });

  it("use after the arena was reset", () => {
    const x = E.zeros([2, 2]);
    E.resetArena();
    expect(() => x.add(1)).toThrow("add_scalar: tensor [2, 2] f32 was used after its arena was reset");
    expect(() => x.toArray()).toThrow(/toArray: tensor \[2, 2\] f32 was used after its arena was reset/);
  });

  it("the native layer rejects stale ids and out-of-range access instead of crashing", () => {
    const id = native.alloc("cpu", 0, 4, true);
    expect(() => native.download(id, 2, 3)).toThrow("download (src): access [2, 5) is outside the storage of 4 elements");
    expect(() => native.unary(0, id, 0, id, 0, 5, 0)).toThrow(/unary \(x\): access \[0, 5\) is outside/);
    expect(() => native.matmul(id, 0, id, 0, id, 0, 1, 3, 3, 3, false, false, 1, 0, 0, 0, 0)).toThrow(/matmul \(a\): access \[0, 9\)/);
    native.resetArena();
    expect(() => native.fill(id, 0, 1, 0)).toThrow(/storage #\d+ is not live/);
    expect(() => native.alloc("tpu", 0, 1, true)).toThrow("Expected device to be `cpu` or `cuda`, got `tpu`");
  });
});

describe("memory", () => {
  it("parameters persist across arena resets and activations do not", () => {
    const p = E.nn.Parameter([2, 2]);
    p.fill_(3);
    const act = p.mul(2);
    E.resetArena();
    expect(p.sum().item()).toBe(12);
    expect(() => act.toArray()).toThrow(/arena was reset/);
  });

  it("arena memory is reused step after step instead of growing", () => {
    const p = E.nn.Parameter([64, 64]);
    p.fill_(1);
    const step = () => {
      p.mul(2).square().sum().item();
      E.resetArena();
    };
    step();
    step();
    const before = E.memoryStats("cpu").arenaReservedBytes;
    for (let i = 0; i < 20; i++) step();
    expect(E.memoryStats("cpu").arenaReservedBytes).toBe(before);
    expect(E.memoryStats("cpu").arenaUsedBytes).toBe(0);
  });

  it("backward hands consumed gradients and temporaries back to the arena", () => {
    E.resetArena();
    const n = 1 << 16;
    const x = E.randn([n]).requiresGrad_();
    let y = x;
    for (let i = 0; i < 20; i++) y = y.tanh().mul(1.5);
    const loss = y.sum();
    const afterForward = E.memoryStats("cpu").arenaUsedBytes;
    loss.backward();
    const grown = E.memoryStats("cpu").arenaUsedBytes - afterForward;
    // Without reuse, 20 layers of (grad, tanh temp, mul temp) would add about 60 blocks of n floats.
    expect(grown).toBeLessThan(8 * n * 4);
    expect(x.grad!.toArray().every(Number.isFinite)).toBe(true);
    expect(loss.item()).toBeTypeOf("number");
    E.resetArena();
  });

  it("backend() reports cpu without a GPU", () => {
    const info = E.backend();
    expect(["cpu", "cuda"]).toContain(info.backend);
    expect(info.device.length).toBeGreaterThan(0);
  });
});
