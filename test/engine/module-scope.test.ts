import { afterEach, describe, expect, it } from "vitest";
import * as E from "../../src/engine/index.ts";

const { F, nn } = E;

afterEach(() => E.resetArena());

/** Keeps its intermediates on `this` so a test can look at what the call released. */
class Probe extends nn.Module {
  seen: Record<string, E.Tensor> = {};
  constructor(readonly body: (x: E.Tensor, seen: Record<string, E.Tensor>) => E.Tensor) {
    super();
  }
  forward(x: E.Tensor): E.Tensor {
    return this.body(x, this.seen);
  }
}

const leaf = (shape: number[], dtype: E.DType = "f64") => E.randn(shape, { dtype }).detach().requiresGrad_();

/** The gradient of sum(f(x) * w) with respect to x, as a plain array. */
function gradOf(f: (x: E.Tensor) => E.Tensor, x: E.Tensor, w: E.Tensor): Float64Array {
  x.grad = null;
  f(x).mul(w).sum().backward();
  return Float64Array.from(x.grad!.toArray());
}

describe("a module call hands back what it made and no longer needs", () => {
  it("releases temporaries that backward does not read, and keeps the ones it does", () => {
    const probe = new Probe((x, seen) => {
      seen.scaled = x.mul(3); // mul by a number: backward reads nothing
      seen.tanh = seen.scaled.tanh(); // tanh's backward reads its output
      return seen.tanh.add(1);
    });
    const y = probe.forward(leaf([8, 8]));
    expect(probe.seen.scaled.storage.alive).toBe(false);
    expect(probe.seen.tanh.storage.alive).toBe(true);
    expect(y.storage.alive).toBe(true);
  });

  it("gives the same gradients as the same code outside a module, bit for bit", () => {
    const body = (x: E.Tensor) => {
      const h = F.rmsNorm(x).to("f32").to("f64");
      const a = F.reluSquare(h.matmul(x.transpose(0, 1)));
      return F.softmax(a.mul(0.1)).add(F.rmsNorm(a).tanh());
    };
    const x = leaf([6, 6]);
    const w = E.randn([6, 6], { dtype: "f64" });
    const plain = gradOf(body, x, w);
    const inModule = gradOf((t) => new Probe(body).forward(t), x, w);
    expect(inModule).toEqual(plain);
  });

  it("keeps only the outputs of rms_norm and relu², whose backward reads nothing else", () => {
    const probe = new Probe((x, seen) => {
      seen.h = x.mul(2);
      seen.r = F.reluSquare(seen.h);
      seen.n = F.rmsNorm(seen.r.mul(0.5));
      return seen.n.matmul(x.transpose(0, 1));
    });
    const x = leaf([5, 5]);
    probe.forward(x);
    expect(probe.seen.h.storage.alive).toBe(false);
    expect(probe.seen.r.storage.alive).toBe(true);
    expect(probe.seen.n.storage.alive).toBe(true);
  });

  it("casts a tensor once per autocast region, and the cast lives as long as its source", () => {
    class Projections extends nn.Module {
      q = nn.Parameter([8, 8]);
      k = nn.Parameter([8, 8]);
      forward(x: E.Tensor): E.Tensor[] {
        return E.autocast("bf16", () => {
          const normed = F.rmsNorm(x.mul(1));
          return [new Linear(this.q).forward(normed), new Linear(this.k).forward(normed)];
        });
      }
    }
    class Linear extends nn.Module {
      constructor(readonly weight: E.Tensor) {
        super();
      }
      forward(x: E.Tensor): E.Tensor {
        return E.linear(x, this.weight);
      }
    }
    const model = new Projections();
    E.uniform_(model.q, -1, 1);
    E.uniform_(model.k, -1, 1);
    const casts: E.Tensor[] = [];
    const previous = E.setTraceHook((op, inputs, _attrs, outputs) => {
      if (op === "cast" && inputs[0].ndim === 2 && inputs[0].shape[0] === 4) casts.push(outputs[0]);
    });
    const [q, k] = model.forward(leaf([4, 8], "f32"));
    E.setTraceHook(previous);
    expect(casts).toHaveLength(1);
    // Read by both matmuls' backward, so still alive after both linear calls returned.
    expect(casts[0].storage.alive).toBe(true);
    q.add(k).sum().backward();
    expect(model.q.grad!.toArray().every(Number.isFinite)).toBe(true);
  });

  it("writes the logits' gradient over the logits when nothing else reads them", () => {
    const V = 4096, rows = 64;
    const head = new Probe((x) => F.crossEntropy(x.matmul(E.ones([8, V])).mul(0.01), E.zeros([rows], { dtype: "i32" })));
    const x = leaf([rows, 8], "f32");
    const loss = head.forward(x);
    const afterForward = E.memoryStats("cpu").arenaUsedBytes;
    E.resetPeakMemory("cpu");
    const peakBefore = E.memoryStats("cpu").peakBytes;
    loss.backward();
    // Without the reuse, the logits and their gradient (rows x V floats each) coexist.
    expect(E.memoryStats("cpu").peakBytes - peakBefore).toBeLessThan(rows * V * 4);
    expect(afterForward).toBeGreaterThanOrEqual(rows * V * 4);
    expect(x.grad!.toArray().every(Number.isFinite)).toBe(true);
  });

  it("lets backward release each activation after its last read", () => {
    const n = 1 << 15;
    const deep = new Probe((x) => {
      let h = x;
      for (let i = 0; i < 16; i++) h = h.tanh().mul(0.9).add(h);
      return h.sum();
    });
    const loss = deep.forward(leaf([n], "f32"));
    const afterForward = E.memoryStats("cpu").arenaUsedBytes;
    loss.backward();
    // Only the loss and the leaf's gradient path remain; every tanh output went after its read.
    expect(E.memoryStats("cpu").arenaUsedBytes).toBeLessThan(afterForward / 4);
  });

  it("under noGrad keeps only the result", () => {
    const n = 1 << 14;
    const probe = new Probe((x) => F.reluSquare(x.mul(2).tanh()).sum(-1));
    const before = E.memoryStats("cpu").arenaUsedBytes;
    const x = E.randn([4, n]);
    const afterInput = E.memoryStats("cpu").arenaUsedBytes;
    E.noGrad(() => probe.forward(x));
    expect(afterInput - before).toBeGreaterThanOrEqual(4 * n * 4);
    expect(E.memoryStats("cpu").arenaUsedBytes - afterInput).toBeLessThanOrEqual(256);
  });

  it("keeps what a nested call returns as a view, and releases it when the outer call is done with it", () => {
    class Inner extends nn.Module {
      forward(x: E.Tensor): E.Tensor {
        return x.mul(2).reshape(-1).slice(0, 0, 4);  // a view of a storage made in here
      }
    }
    const inner = new Inner();
    let fromInner: E.Tensor | null = null;
    const outer = new Probe((x) => {
      fromInner = inner.forward(x);
      return fromInner.add(1);
    });
    const y = E.noGrad(() => outer.forward(E.ones([2, 3])));
    expect(Array.from(y.toArray())).toEqual([3, 3, 3, 3]);
    expect(fromInner!.storage.alive).toBe(false);
  });

  it("returns every tensor of an array or object result intact", () => {
    class Pair extends nn.Module {
      forward(x: E.Tensor): { a: E.Tensor; b: E.Tensor[] } {
        return { a: x.mul(2), b: [x.tanh(), x.add(1)] };
      }
    }
    const { a, b } = new Pair().forward(E.ones([3]));
    expect(Array.from(a.toArray())).toEqual([2, 2, 2]);
    expect(b.map((t) => t.toArray()[0])).toEqual([Math.fround(Math.tanh(1)), 2]);
  });
});

describe("misuse gets an error that says what happened", () => {
  it("a tensor a module call released cannot be read afterwards", () => {
    const probe = new Probe((x, seen) => {
      seen.scaled = x.mul(3);
      return seen.scaled.tanh();
    });
    probe.forward(leaf([4]));
    expect(() => probe.seen.scaled.toArray()).toThrow("toArray: tensor [4] f64 was used after its storage was freed");
  });

  it("a second backward through the same graph asks for a new forward pass", () => {
    const x = leaf([4]);
    const loss = new Probe((t) => t.tanh().mul(t.tanh()).sum()).forward(x);
    loss.backward();
    expect(() => loss.backward()).toThrow("backward: mul needs tensors that the first backward through this graph released; run the forward pass again");
  });
});
