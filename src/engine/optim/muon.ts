/**
 * Muon for 2-D matrices, as in the reference: Nesterov momentum, Polar Express
 * orthogonalisation, NorMuon variance reduction and cautious weight decay. Every parameter of a
 * group has the same shape and the group is updated as one stacked (k, rows, cols) tensor: fused
 * native kernels for the momentum, NorMuon and the update, GEMM epilogues for Polar Express.
 * Polar Express runs in bf16 by default, as the reference's does (tensor cores on the GPU); the
 * momentum, NorMuon's statistics and the update stay in the parameters' dtype.
 */
import { noGrad } from "../grad-mode.ts";
import { isFloat, statDtype, type DType, type Device } from "../dtype.ts";
import { trackAllocations } from "../memory.ts";
import { native } from "../native.ts";
import { formatShape, sameShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { matmulInto, zeros } from "../ops/index.ts";

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
  /** The dtype Polar Express orthogonalises in: "bf16" (the reference's, and the default), or "f32"/"f64" for exact references. */
  polarExpressDtype?: DType;
  initialLr?: number;
}

interface State {
  momentumBuffer: Tensor;
  secondMomentumBuffer: Tensor;
}

/** Runs `fn` and hands every arena tensor it made, except its result, back to the arena at once. */
function scoped(fn: () => Tensor): Tensor {
  const [out, made] = trackAllocations(fn);
  for (const s of made) if (s !== out.storage) s.release();
  return out;
}

/**
 * g / (||g||_F * 1.02 + 1e-6) per matrix in `dtype`: where Polar Express starts. The norm is g's,
 * before any cast; the quotient is rounded to `dtype` once (bf16(g) / s would round twice).
 */
function normalized(g: Tensor, dtype: DType): Tensor {
  const scale = scoped(() => g.norm([-2, -1], true).mul(1.02).add(1e-6));
  const X = scoped(() => g.div(scale).to(dtype));
  scale.storage.release();
  return X;
}

const identities = new Map<string, Tensor>();
/** The n x n identity, made once per size, dtype and device. */
function identity(n: number, dtype: DType, device: Device): Tensor {
  const key = `${device} ${dtype} ${n}`;
  let eye = identities.get(key);
  if (!eye) {
    const data = new Float64Array(n * n);
    for (let i = 0; i < n; i++) data[i * (n + 1)] = 1;
    eye = Tensor.from(data, [n, n], dtype, device, true);
    identities.set(key, eye);
  }
  return eye;
}

/** The Polar Express iterations on a normalized stack X, which they overwrite. */
function iterate(X: Tensor, steps: number): Tensor {
  const [k, rows, cols] = X.shape;
  const tall = rows > cols, n = Math.min(rows, cols);
  const eye = identity(n, X.dtype, X.device);
  const A = Tensor.empty([k, n, n], X.dtype, X.device);
  let next = Tensor.empty(X.shape, X.dtype, X.device);
  for (const [a, b, c] of POLAR_EXPRESS_COEFFS.slice(0, steps)) {
    // A = XX^T (X^T X when tall): the small Gram matrix either way.
    matmulInto(A, tall ? X.T : X, tall ? X : X.T);
    // aX + bAX + cA^2 X = (aI + bA + cA^2)X. B starts as A + (a/b)I and one GEMM epilogue makes it
    // aI + bA + cA^2, so no elementwise pass ever touches the large X.
    const B = scoped(() => A.add(eye.mul(a / b)));
    matmulInto(B, A, A, c, b);
    matmulInto(next, tall ? X : B, tall ? B : X);
    B.storage.release();
    [X, next] = [next, X];
  }
  A.storage.release();
  next.storage.release();
  return X;
}

/** Approximately orthogonalises each matrix of a (k, rows, cols) stack, computing in `dtype`. */
export function polarExpress(g: Tensor, dtype: DType = "bf16", steps = 5): Tensor {
  return iterate(normalized(g, dtype), steps);
}

/** Storage ids and offsets of a group's tensors, as the fused kernels take them. */
function idsOf(ts: Tensor[]): [number[], number[]] {
  return [ts.map((t) => t.storage.id), ts.map((t) => t.offset)];
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
        if (!p.isContiguous()) throw new Error(`Muon: parameters are updated in place and must be contiguous; got a view with strides [${p.strides.join(", ")}]`);
      }
      if (g.polarExpressDtype && !isFloat(g.polarExpressDtype)) throw new Error(`Muon: polarExpressDtype must be a floating-point dtype, got ${g.polarExpressDtype}`);
    }
    this.paramGroups = groups.map((g) => ({ beta2: 0.95, nsSteps: 5, polarExpressDtype: "bf16", ...g, initialLr: g.initialLr ?? g.lr }));
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
    const { dtype, device } = params[0];
    const k = params.length;
    const s = this.stateFor(group);
    // Nesterov: buf = lerp(buf, grad, 1 - mu); g = lerp(grad, buf, mu).
    const g = Tensor.empty([k, rows, cols], dtype, device);
    native.muonMomentum(...idsOf(params.map((p) => p.grad!.contiguous())), s.momentumBuffer.storage.id, 0, g.storage.id, 0,
      rows * cols, group.momentum);
    const X0 = normalized(g, group.polarExpressDtype!);
    g.storage.release();
    const X = iterate(X0, group.nsSteps!);
    // NorMuon's per-row (or per-column) scale, applied by the update kernel as it reads X.
    const scale = Tensor.empty([k, rows >= cols ? rows : cols], statDtype(dtype), device);
    native.norMuon(X.storage.id, 0, s.secondMomentumBuffer.storage.id, 0, scale.storage.id, 0, k, rows, cols, group.beta2!);
    // Cautious weight decay: decay only where the update and the weight agree in sign.
    const lr = group.lr * Math.max(1, rows / cols) ** 0.5;
    native.muonUpdate(...idsOf(params), X.storage.id, 0, scale.storage.id, 0, rows, cols, lr, group.weightDecay);
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
