import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateBpb, type TokenLossFn } from "../../src/data/evaluate-bpb.ts";
import { packedBatches, type Batch } from "../../src/data/packed-batches.ts";
import { SeededRandom } from "../../src/data/seeded-random.ts";
import { Tokenizer } from "../../src/data/tokenizer.ts";
import { tempDir, writeTextShard } from "./shard-fixtures.ts";

/** A model whose logits are all zero: the cross-entropy of every token is ln(V), computed by logsumexp. */
function uniformModel(vocabSize: number): TokenLossFn {
  return (_inputs, targets) => {
    const logits = new Float64Array(vocabSize);
    const max = Math.max(...logits);
    const logSumExp = max + Math.log(logits.reduce((sum, x) => sum + Math.exp(x - max), 0));
    return Float64Array.from(targets, (t) => logSumExp - logits[t]);
  };
}

async function* fixedBatches(batches: Array<{ inputs: number[]; targets: number[] }>): AsyncGenerator<Batch> {
  for (const { inputs, targets } of batches) yield { inputs: Int32Array.from(inputs), targets: Int32Array.from(targets), epoch: 1 };
}

describe("evaluateBpb", () => {
  it("gives log2(V) x tokens / bytes for uniform logits, on real packed validation batches", async () => {
    const random = new SeededRandom(9);
    const words = ["alpha", "beta", "gamma", "délta", "ε", "🙂", "zeta", "eta", "theta", "42"];
    const docs = Array.from({ length: 400 }, () => Array.from({ length: random.between(3, 30) }, () => random.pick(words)).join(" "));
    const tokenizer = await Tokenizer.train(docs, 288);
    const val = writeTextShard(join(tempDir(), "val.txt"), docs);
    const [batchSize, seqLen, evalTokens] = [4, 32, 4 * 32 * 5];

    // Independently: walk the same batches and count target tokens and their bytes by decoding.
    let tokens = 0;
    let bytes = 0;
    let batches = 0;
    for await (const { targets } of packedBatches([val], tokenizer, batchSize, seqLen, { loop: false })) {
      if (batches++ === 5) break;
      for (const t of targets) {
        if (t === tokenizer.bosTokenId) continue;
        tokens++;
        bytes += tokenizer.decodeBytes([t]).length;
      }
    }
    expect(tokens).toBeLessThan(5 * batchSize * seqLen);

    const bpb = await evaluateBpb(uniformModel(tokenizer.vocabSize), {
      tokenBytes: tokenizer.tokenBytes,
      batchSize,
      seqLen,
      evalTokens,
      valLoader: packedBatches([val], tokenizer, batchSize, seqLen, { loop: false }),
    });
    const expected = (Math.log2(tokenizer.vocabSize) * tokens) / bytes;
    expect(Math.abs(bpb - expected) / expected).toBeLessThan(1e-12);
  });

  it("leaves targets with 0 bytes out of both sums", async () => {
    const tokenBytes = Int32Array.of(1, 2, 3, 0);
    const loss: TokenLossFn = (_inputs, targets) => Float32Array.from(targets, (t) => (t === 3 ? 1e9 : t + 1));
    const bpb = await evaluateBpb(loss, {
      tokenBytes,
      batchSize: 1,
      seqLen: 4,
      evalTokens: 4,
      valLoader: fixedBatches([{ inputs: [3, 0, 1, 2], targets: [0, 1, 3, 2] }]),
    });
    // Targets 0, 1, 2 count: (1 + 2 + 3) nats over (1 + 2 + 3) bytes.
    expect(bpb).toBeCloseTo(1 / Math.LN2, 14);
  });

  it("runs floor(evalTokens / (batchSize x seqLen)) batches and no more", async () => {
    let calls = 0;
    const loss: TokenLossFn = (_inputs, targets) => {
      calls++;
      return new Float32Array(targets.length).fill(calls);
    };
    const batch = { inputs: [1, 1], targets: [1, 1] };
    const bpb = await evaluateBpb(loss, {
      tokenBytes: Int32Array.of(0, 1),
      batchSize: 1,
      seqLen: 2,
      evalTokens: 5,
      valLoader: fixedBatches([batch, batch, batch]),
    });
    expect(calls).toBe(2);
    expect(bpb).toBeCloseTo((1 + 1 + 2 + 2) / 4 / Math.LN2, 14);
  });

  it("sums in float64, so a million small losses add up exactly enough", async () => {
    const n = 1 << 20;
    const small = Math.fround(0.1);
    const bpb = await evaluateBpb(() => new Float32Array(n).fill(small), {
      tokenBytes: Int32Array.of(3),
      batchSize: 1024,
      seqLen: 1024,
      evalTokens: n,
      valLoader: fixedBatches([{ inputs: new Array(n).fill(0), targets: new Array(n).fill(0) }]),
    });
    // Float32 accumulation would be off by about 1e-3 here.
    expect(Math.abs(bpb - small / 3 / Math.LN2) / bpb).toBeLessThan(1e-9);
  });

  it("says when the validation data runs out", async () => {
    await expect(
      evaluateBpb(() => new Float32Array(2), {
        tokenBytes: Int32Array.of(1),
        batchSize: 1,
        seqLen: 2,
        evalTokens: 6,
        valLoader: fixedBatches([{ inputs: [0, 0], targets: [0, 0] }]),
      }),
    ).rejects.toThrow("Expected the validation data to fill 3 batches of 1x2 tokens (evalTokens 6), got 1");
  });

  it("rejects a loss of the wrong length, too few eval tokens and bad sizes", async () => {
    const options = { tokenBytes: Int32Array.of(1), batchSize: 1, seqLen: 2, evalTokens: 2, valLoader: fixedBatches([{ inputs: [0, 0], targets: [0, 0] }]) };
    await expect(evaluateBpb(() => new Float32Array(3), options)).rejects.toThrow(
      "Expected the loss function to return 2 per-token losses, got 3",
    );
    await expect(evaluateBpb(() => new Float32Array(2), { ...options, evalTokens: 1 })).rejects.toThrow(
      "Expected `evalTokens` to be at least batchSize x seqLen = 2, got `1`",
    );
    await expect(evaluateBpb(() => new Float32Array(2), { ...options, batchSize: 0 })).rejects.toThrow(
      "Expected `batchSize` to be an integer >= 1, got `0`",
    );
  });
});
