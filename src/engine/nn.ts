/** nn.Module with parameter registration, plus Linear and Embedding, as in PyTorch. */
import { releaseLeftovers } from "./module-scope.ts";
import type { DType, Device } from "./dtype.ts";
import { Tensor } from "./tensor.ts";
import * as ops from "./ops/index.ts";

/** A persistent leaf tensor that requires grad. */
export function Parameter(shape: readonly number[], dtype: DType = "f32", device: Device = "cpu"): Tensor {
  return Tensor.empty(shape, dtype, device, true).requiresGrad_();
}

export abstract class Module {
  training = true;

  constructor() {
    // Every forward call releases what it made and no longer needs when it returns, as Python's
    // reference counting does for PyTorch's modules (see module-scope.ts).
    const forward: unknown = (this as { forward?: unknown }).forward;
    if (typeof forward === "function") {
      const released = (...args: unknown[]): unknown => releaseLeftovers(() => forward.apply(this, args));
      Object.defineProperty(this, "forward", { value: released, writable: true, enumerable: false });
    }
  }

  /** Every parameter of this module and its submodules, named by path ("blocks.0.attn.c_q.weight"). */
  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [key, value] of Object.entries(this)) {
      const name = prefix ? `${prefix}.${key}` : key;
      if (value instanceof Tensor && value.requiresGrad && value.isLeaf && value.storage.generation === null) out.push([name, value]);
      else if (value instanceof Module) out.push(...value.namedParameters(name));
      else if (Array.isArray(value)) {
        value.forEach((v, i) => {
          if (v instanceof Module) out.push(...v.namedParameters(`${name}.${i}`));
          else if (v instanceof Tensor && v.requiresGrad && v.isLeaf) out.push([`${name}.${i}`, v]);
        });
      }
    }
    // A parameter's name is its path from the outermost module that lists it: a block's own
    // call names it "attn.c_q.weight", the model's call later "h.0.attn.c_q.weight".
    for (const [n, p] of out) if (!p.name || n.endsWith(`.${p.name}`)) p.name = n;
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Copies `t` into persistent storage so it survives arena resets (rotary tables, masks). */
  registerBuffer(t: Tensor): Tensor {
    const b = Tensor.empty(t.shape, t.dtype, t.device, true);
    return b.copy_(t);
  }

  /** Sets every parameter's gradient to zero (or drops it with setToNone). */
  zeroGrad(setToNone = false): void {
    for (const p of this.parameters()) {
      if (setToNone) {
        p.grad?.storage.free();
        p.grad = null;
      } else p.grad?.zero_();
    }
  }

  /** Frees every parameter and gradient now instead of at process exit. */
  dispose(): void {
    for (const p of this.parameters()) {
      p.grad?.storage.free();
      p.storage.free();
    }
  }

  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }
}

export class Linear extends Module {
  readonly weight: Tensor;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { dtype?: DType; device?: Device } = {}) {
    super();
    this.weight = Parameter([outFeatures, inFeatures], opts.dtype, opts.device);
    const bound = 1 / Math.sqrt(inFeatures);
    ops.uniform_(this.weight, -bound, bound);
  }
  forward(x: Tensor): Tensor {
    return ops.linear(x, this.weight);
  }
}

export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: { dtype?: DType; device?: Device } = {}) {
    super();
    this.weight = Parameter([numEmbeddings, embeddingDim], opts.dtype, opts.device);
    ops.normal_(this.weight);
  }
  forward(idx: Tensor): Tensor {
    return ops.embedding(idx, this.weight);
  }
}
