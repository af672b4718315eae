/** AdamW with per-group hyperparameters, one fused native step per parameter. */
import { statDtype } from "../dtype.ts";
import { native } from "../native.ts";
import { Tensor } from "../tensor.ts";
import { zeros } from "../ops/index.ts";

export interface AdamWGroup {
  params: Tensor[];
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  /** The lr the schedule multiplies (set from lr when omitted). */
  initialLr?: number;
}

interface State {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

export class AdamW {
  readonly paramGroups: AdamWGroup[];
  private readonly state = new Map<Tensor, State>();

  constructor(groups: AdamWGroup[]) {
    for (const g of groups) {
      for (const [key, v] of Object.entries({ lr: g.lr, eps: g.eps, weightDecay: g.weightDecay })) {
        if (!Number.isFinite(v) || v < 0) throw new RangeError(`AdamW: expected \`${key}\` to be a number >= 0, got ${v}`);
      }
      if (!g.betas.every((b) => b >= 0 && b < 1)) throw new RangeError(`AdamW: expected betas in [0, 1), got [${g.betas.join(", ")}]`);
    }
    this.paramGroups = groups.map((g) => ({ ...g, initialLr: g.initialLr ?? g.lr }));
  }

  step(): void {
    for (const group of this.paramGroups) {
      const [b1, b2] = group.betas;
      for (const p of group.params) {
        if (!p.grad) continue;
        const s = this.stateFor(p);
        s.step++;
        native.adamw(p.storage.id, p.offset, p.grad.storage.id, p.grad.offset, s.expAvg.storage.id, 0, s.expAvgSq.storage.id, 0,
          p.numel, group.lr, b1, b2, group.eps, group.weightDecay, 1 - b1 ** s.step, 1 - b2 ** s.step);
      }
    }
  }

  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad?.zero_();
  }

  private stateFor(p: Tensor): State {
    let s = this.state.get(p);
    if (!s) {
      const opts = { dtype: statDtype(p.dtype), device: p.device, persistent: true };
      s = { step: 0, expAvg: zeros(p.shape, opts), expAvgSq: zeros(p.shape, opts) };
      this.state.set(p, s);
    }
    return s;
  }
}
