/** val_bpb of an engine model: runs its forward pass with reduction "none" batch by batch. */
import { noGrad, resetArena, tensor, type Tensor } from "../engine/index.ts";
import type { TokenLossFn } from "./evaluate-bpb.ts";

/** What the metric needs of a model: per-token losses for (B, T) inputs and targets. */
export interface LossModel {
  forward(idx: Tensor, targets: Tensor, reduction: "none"): Tensor;
  parameters(): Tensor[];
}

/** Adapts a model to the engine-free loss function the metric consumes. */
export function modelLossFn(model: LossModel): TokenLossFn {
  const device = model.parameters()[0]?.device ?? "cpu";
  return (inputs, targets, rows, cols) =>
    noGrad(() => {
      const x = tensor(inputs, [rows, cols], { dtype: "i32", device });
      const y = tensor(targets, [rows, cols], { dtype: "i32", device });
      const losses = model.forward(x, y, "none").toArray();
      resetArena();
      return losses as Float32Array | Float64Array;
    });
}
