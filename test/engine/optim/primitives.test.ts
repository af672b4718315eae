// The fused optimizer primitives' contracts; their numbers are tested against plain ops in test/train-optimizer.test.ts.
import { describe, expect, it } from "vitest";
import * as torch from "../../../src/engine/index.ts";
import { F } from "../../../src/engine/index.ts";

const persistentRandn = (shape: number[], dtype: torch.DType = "f32") => torch.persistent(() => torch.randn(shape, { dtype }));

describe("fused optimizer primitives", () => {
  it("cautiousUpdate_ with no scale is the update with a scale of ones", () => {
    torch.manualSeed(3);
    const init = [persistentRandn([4, 6]), persistentRandn([4, 6])];
    const update = torch.randn([2, 4, 6]);
    const [a, b] = [null, torch.ones([2, 1, 6])].map((scale) => {
      const params = init.map((p) => persistentRandn(p.shape).copy_(p));
      F.cautiousUpdate_(params, update, scale, { lr: 0.1, weightDecay: 0.5 });
      return params.map((p) => Array.from(p.toArray()));
    });
    expect(a).toEqual(b);
  });

  it("refuses mismatched state, naming the shapes and dtypes", () => {
    const p = persistentRandn([4, 6]);
    expect(() => F.adamwStep_(p, p, torch.zeros([4, 6]), torch.zeros([6, 4]), { step: 1, lr: 0.1, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0 }))
      .toThrow("adamwStep_: param, grad, expAvg and expAvgSq must have one shape (inputs: [4, 6] f32, [4, 6] f32, [4, 6] f32, [6, 4] f32)");
    expect(() => F.adamwStep_(p, p, torch.zeros([4, 6]), torch.zeros([4, 6]), { step: 0, lr: 0.1, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0 }))
      .toThrow("adamwStep_: expected `step` to be an integer >= 1, got 0");
    expect(() => F.nesterovMomentum_([p, p], torch.zeros([3, 4, 6]), 0.9)).toThrow(/nesterovMomentum_: momentumBuffer must be \(2, 4, 6\) for 2 gradients of \[4, 6\]/);
    expect(() => F.normuonScale_(torch.zeros([2, 4, 6]), torch.zeros([2, 4, 1]), 0.95)).toThrow(/normuonScale_: secondMomentumBuffer must be \[2, 1, 6\] for X \[2, 4, 6\]/);
    expect(() => F.cautiousUpdate_([p], torch.zeros([1, 4, 6]), torch.zeros([1, 4, 1]), { lr: 0.1, weightDecay: 0 }))
      .toThrow(/cautiousUpdate_: scale must be \[1, 1, 6\] f32, as normuonScale_ returns it/);
  });
});
