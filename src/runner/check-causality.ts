/**
 * The second check of causality, by experiment: the proof (prove-causality.ts) is the first.
 * A language model may predict a token only from the tokens before it; a graph that reads
 * ahead would see each target in its input and score far below any honest model. So on the
 * first batch, the evaluator changes every row's tokens from a random position on and checks
 * that the losses before it stay put, at a batch size and row order of its own choosing.
 */
import type { TokenLossFn } from "../data/evaluate-bpb.ts";
import { GraphRejectedError } from "./check-graph.ts";

/** Losses that differ by more than this (relative, at least 1 nat scale) count as changed. */
export const CAUSALITY_TOLERANCE = 1e-5;
/** Changed copies of the test batch, each with its own cut in every row. */
export const CUT_PASSES = 2;

/** A batch size in 1..rows+1 other than `rows`: the check never runs at the traced shape. */
function testBatchSize(rows: number, random: () => number): number {
  const pick = 1 + Math.floor(random() * rows);
  return pick < rows ? pick : rows + 1;
}

/**
 * Wraps `lossFn` (which must take any number of rows) so that before its first batch it runs the
 * cut test: the batch's rows, rotated by a random amount, cycled to a test batch size other than
 * the traced one, then CUT_PASSES copies with each row's tokens replaced from a random position
 * on (the targets kept). The losses before each cut must equal those of the unchanged test batch.
 *
 * @param random a source of uniform numbers in [0, 1); the cuts must not be predictable.
 * @throws GraphRejectedError (from the returned function) naming the first row and position that looked ahead.
 */
export function withCausalityCheck(lossFn: TokenLossFn, vocabSize: number, random: () => number = Math.random): TokenLossFn {
  let checked = false;
  return async (inputs, targets, rows, cols) => {
    if (!checked && cols >= 2) {
      checked = true;
      const testRows = testBatchSize(rows, random);
      const rotation = Math.floor(random() * rows);
      const cycle = (tokens: Int32Array) => {
        const out = new Int32Array(testRows * cols);
        for (let r = 0; r < testRows; r++) {
          const from = ((r + rotation) % rows) * cols;
          out.set(tokens.subarray(from, from + cols), r * cols);
        }
        return out;
      };
      const x = cycle(inputs), y = cycle(targets);
      // The changed batches run first: memory left over from a pass over the real tokens could
      // otherwise help a graph repeat the real losses.
      const passes = [];
      for (let p = 0; p < CUT_PASSES; p++) {
        const cuts = Array.from({ length: testRows }, () => 1 + Math.floor(random() * (cols - 1)));
        const changed = x.slice();
        cuts.forEach((cut, r) => {
          for (let t = cut; t < cols; t++) {
            const i = r * cols + t;
            changed[i] = (changed[i] + 1 + Math.floor(random() * (vocabSize - 1))) % vocabSize;
          }
        });
        passes.push({ cuts, losses: await lossFn(changed, y, testRows, cols) });
      }
      const reference = await lossFn(x, y, testRows, cols);
      for (const { cuts, losses } of passes) {
        cuts.forEach((cut, r) => {
          for (let t = 0; t < cut; t++) {
            const a = reference[r * cols + t], b = losses[r * cols + t];
            if (Math.abs(a - b) > CAUSALITY_TOLERANCE * Math.max(1, Math.abs(a))) {
              throw new GraphRejectedError(
                `Expected the loss at row ${r}, position ${t} of a ${testRows}-row test batch to depend only on the tokens up to it, but changing the tokens from position ${cut} on changed it from ${a} to ${b}: the model reads ahead`,
              );
            }
          }
        });
      }
    }
    return lossFn(inputs, targets, rows, cols);
  };
}
