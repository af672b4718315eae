/** A tiny language model for tracing and evaluator tests: embedding, causal attention, head, loss. */
import { concat, F, manualSeed, nn, persistent, type Tensor } from "../../src/engine/index.ts";

export class TinyLM extends nn.Module {
  wte: nn.Embedding;
  head: nn.Linear;

  /** With `lookahead`, each position also sees the next token: a model that cheats. */
  constructor(readonly vocab: number, readonly dim: number, readonly lookahead = false) {
    super();
    this.wte = new nn.Embedding(vocab, dim);
    this.head = new nn.Linear(dim, vocab);
  }

  forward(idx: Tensor, targets: Tensor, reduction: "mean" | "none" = "mean"): Tensor {
    const [B, T] = idx.shape;
    let x = this.wte.forward(idx);
    const heads = x.view(B, T, 1, this.dim);
    x = x.add(F.attention(heads, heads, heads).view(B, T, this.dim));
    if (this.lookahead) x = x.add(this.wte.forward(concat([idx.slice(1, 1, T), idx.slice(1, 0, 1)], 1)));
    return F.crossEntropy(this.head.forward(F.rmsNorm(x)), targets, { ignoreIndex: -1, reduction });
  }
}

/** A seeded TinyLM in persistent memory. */
export function tinyLM(vocab: number, dim: number, options: { lookahead?: boolean; seed?: number } = {}): TinyLM {
  manualSeed(options.seed ?? 1);
  return persistent(() => new TinyLM(vocab, dim, options.lookahead));
}

/** `count` pseudo-random token ids below `vocab`, the same for the same seed. */
export function tokens(count: number, vocab: number, seed = 7): Int32Array {
  let s = seed;
  return Int32Array.from({ length: count }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) >>> 8) % vocab);
}
