// Muon's fused kernels on "cuda" against the CPU reference (skipped without a GPU).
import { afterEach, describe, expect, it } from "vitest";
import * as E from "../../../src/engine/index.ts";
import { hasCuda, onDevice, relativeError } from "./compare-devices.ts";

describe.skipIf(!hasCuda)("Muon's fused kernels on the GPU", () => {
  afterEach(() => E.resetArena());

  // Row- and column-wise NorMuon, and more matrices than one launch's pointer batch (32).
  it.each([[3, 32, 96], [3, 96, 32], [2, 48, 48], [40, 8, 12]])("k=%i %ix%i: three f32 steps as on the CPU", (k, rows, cols) => {
    const steps = (device: E.Device) => {
      E.manualSeed(38);
      const init = E.randn([k, rows, cols]), grads = [0, 1, 2].map(() => E.randn([k, rows, cols]));
      const stack = E.persistent(() => onDevice(init, device));
      const params = Array.from({ length: k }, (_, i) => stack.slice(0, i, i + 1).reshape(rows, cols).requiresGrad_());
      const opt = new E.Muon([{ params, lr: 0.04, momentum: 0.95, weightDecay: 0.2 }]);
      for (const G of grads) {
        const g = onDevice(G, device);
        params.forEach((p, i) => (p.grad = g.slice(0, i, i + 1).reshape(rows, cols)));
        opt.step();
      }
      return stack.toArray();
    };
    expect(relativeError(steps("cuda"), steps("cpu"))).toBeLessThanOrEqual(1e-4);
  });
});
