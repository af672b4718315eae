// The CUDA embedding backward: each token's rows summed in f32 in a fixed order, added to the table
// once (skipped without a GPU).
import { afterEach, describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { native } from "../../../src/engine/native.ts";
import { hasCuda, onDevice, relativeError } from "./compare-devices.ts";

describe.skipIf(!hasCuda)("CUDA embedding backward", () => {
  afterEach(() => E.resetArena());

  // A third of the positions are token 5; dim 100 leaves a partial 64-column tile.
  const n = 6000, vocab = 70, dim = 100;
  const indices = (bad?: number) =>
    E.tensor(Array.from({ length: n }, (_, i) => (i === 1 && bad !== undefined ? bad : i % 3 === 0 ? 5 : (i * 7919) % vocab)), [n], { dtype: "i32" });
  E.manualSeed(41);
  const grad = E.persistent(() => E.randn([n, dim]).to("bf16"));

  // Adds the gradient rows into a table of ones, on `device` in `dtype`.
  function backward(dtype: E.DType, device: E.Device, idx = indices()): E.Tensor {
    const table = E.ones([vocab, dim], { dtype, device }), g = onDevice(grad.to(dtype), device), ids = onDevice(idx, device);
    native.embeddingBackward(table.storage.id, 0, ids.storage.id, 0, g.storage.id, 0, n, vocab, dim);
    return table;
  }

  it("rounds each token's f32 sum to bf16 once, however often the token occurs", () => {
    expect(relativeError(backward("bf16", "cuda").toArray(), backward("f32", "cpu").toArray())).toBeLessThanOrEqual(2 ** -8);
  });

  it("gives the same bits on every run", () => {
    expect(Array.from(backward("bf16", "cuda").toArray())).toEqual(Array.from(backward("bf16", "cuda").toArray()));
  });

  it("reports an out-of-range index at the next synchronisation and skips it", () => {
    const table = backward("f32", "cuda", indices(99));
    expect(() => E.synchronize("cuda")).toThrow(/embedding backward: index 99 at position 1 is out of range \[0, 70\) \(found on the GPU/);
    const ref = backward("f32", "cpu", indices(1)).toArray(), got = table.toArray();
    // Position 1's row went nowhere; everything else matches the CPU's sums (row 1 of the reference got it).
    const row1 = grad.toArray().subarray(dim, 2 * dim);
    row1.forEach((v, j) => (ref[dim + j] -= v));
    expect(relativeError(got, ref)).toBeLessThanOrEqual(1e-5);
  });
});
