/**
 * Muon for 2-D matrices, as in the reference: Nesterov momentum, Polar Express
 * orthogonalisation, NorMuon variance reduction and cautious weight decay. Every parameter of a
 * group has the same shape and the group is updated as one stacked (k, rows, cols) tensor.
 */
import { noGrad } from "../autograd.ts";
import { trackAllocations } from "../memory.ts";
import { formatShape, sameShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { matmul, maximum, stack, step, zeros } from "../ops/index.ts";

/** (a, b, c) per iteration of the Polar Express polynomial X <- aX + b(XX^T)X + c(XX^T)^2 X. */
export const POLAR_EXPRESS_COEFFS: readonly [number, number, number][] = [
  [8.156554524902461, -22.48329292557795, 15.878769915207462],
  [4.042929935166739, -2.808917465908714, 0.5000178451051316],
  [3.8916678022926607, -2.772484153217685, 0.5060648178503393],
  [3.285753657755655, -2.3681294933425376, 0.46449024233003106],
  [2.3465413258596377, -1.7097828382687081, 0.42323551169305323],
];

export interface MuonGroup {
  params: Tensor[];
  lr: number;
  momentum: number;
  weightDecay: number;
  beta2?: number;
  nsSteps?: number;
  initialLr?: number;
}

interface State {
  momentumBuffer: Tensor;
  secondMomentumBuffer: Tensor;
}

/** Approximately orthogonalises each matrix of a (k, rows, cols) stack. */
export function polarExpress(g: Tensor, steps = 5): Tensor {
  const [, rows, cols] = g.shape;
  let X = g.div(g.norm([-2, -1], true).mul(1.02).add(1e-6));
  const tall = rows > cols;
  for (const [a, b, c] of POLAR_EXPRESS_COEFFS.slice(0, steps)) {
    const A = tall ? matmul(X.transpose(-2, -1), X) : matmul(X, X.transpose(-2, -1));
    const B = A.mul(b).add(matmul(A, A).mul(c));
    X = X.mul(a).add(tall ? matmul(X, B) : matmul(B, X));
  }
  return X;
}

/** NorMuon: per-row (or per-column) second-moment normalisation that keeps the update's norm. */
export function norMuon(X: Tensor, secondMomentum: Tensor, beta2: number): Tensor {
  const [, rows, cols] = X.shape;
  const dim = rows >= cols ? -1 : -2;
  const n = rows >= cols ? cols : rows;
  const vMean = X.square().mean(dim, true);
  const vNorm = vMean.sum([-2, -1], true).mul(n).sqrt();
  secondMomentum.copy_(secondMomentum.add(vMean.sub(secondMomentum).mul(1 - beta2)));
  const stepSize = maximum(secondMomentum, 1e-10).rsqrt();
  const vNormNew = vMean.mul(n).mul(stepSize.square()).sum([-2, -1], true).sqrt();
  return X.mul(stepSize).mul(vNorm.div(maximum(vNormNew, 1e-10)));
}

export class Muon {
  readonly paramGroups: MuonGroup[];
  private readonly state = new Map<MuonGroup, State>();

  constructor(groups: MuonGroup[]) {
    for (const g of groups) {
      if (g.params.length === 0) throw new Error("Muon: a group needs at least one parameter");
      const shape = g.params[0].shape;
      if (shape.length !== 2) throw new Error(`Muon: expected 2-D parameters, got ${formatShape(shape)}`);
      for (const p of g.params) {
        if (!sameShape(p.shape, shape)) throw new Error(`Muon: every parameter of a group must share one shape; got ${formatShape(shape)} and ${formatShape(p.shape)}`);
      }
    }
    this.paramGroups = groups.map((g) => ({ beta2: 0.95, nsSteps: 5, ...g, initialLr: g.initialLr ?? g.lr }));
  }

  step(): void {
    noGrad(() => {
      for (const group of this.paramGroups) {
        // Every tensor of a group's update is a temporary: it goes back to the arena at once.
        const [, temporaries] = trackAllocations(() => this.stepGroup(group));
        for (const s of temporaries) s.release();
      }
    });
  }

  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad?.zero_();
  }

  private stepGroup(group: MuonGroup): void {
    const params = group.params;
    if (params.some((p) => !p.grad)) return;
    const [rows, cols] = params[0].shape;
    const s = this.stateFor(group);
    const G = stack(params.map((p) => p.grad!));
    const P = stack(params);
    const mu = group.momentum;
    // Nesterov: buf = lerp(buf, G, 1 - mu); g = lerp(G, buf, mu).
    s.momentumBuffer.copy_(s.momentumBuffer.add(G.sub(s.momentumBuffer).mul(1 - mu)));
    const g = G.add(s.momentumBuffer.sub(G).mul(mu));
    const X = norMuon(polarExpress(g, group.nsSteps), s.secondMomentumBuffer, group.beta2!);
    const lr = group.lr * Math.max(1, rows / cols) ** 0.5;
    // Cautious weight decay: decay only where the update and the weight agree in sign.
    const mask = step(X.mul(P));
    const updated = P.sub(X.mul(lr)).sub(P.mul(mask).mul(lr * group.weightDecay));
    params.forEach((p, i) => p.copy_(updated.slice(0, i, i + 1).reshape(rows, cols)));
  }

  private stateFor(group: MuonGroup): State {
    let s = this.state.get(group);
    if (!s) {
      const [rows, cols] = group.params[0].shape;
      const k = group.params.length;
      const opts = { dtype: group.params[0].dtype, device: group.params[0].device, persistent: true };
      s = {
        momentumBuffer: zeros([k, rows, cols], opts),
        secondMomentumBuffer: zeros(rows >= cols ? [k, rows, 1] : [k, 1, cols], opts),
      };
      this.state.set(group, s);
    }
    return s;
  }
}
