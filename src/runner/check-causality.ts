/**
 * A language model may predict a token only from the tokens before it. A graph that reads
 * ahead (a shifted input, a non-causal mix over time or across rows) would see each target in
 * its input and score far below any honest model, so the evaluator tests for it.
 */
import type { TokenLossFn } from "../data/evaluate-bpb.ts";
import { GraphRejectedError } from "./check-graph.ts";

/** Losses that differ by more than this (relative, at least 1 nat scale) count as changed. */
export const CAUSALITY_TOLERANCE = 1e-5;

/**
 * Wraps `lossFn` so that its first batch is also run with the inputs of each row replaced from
 * a random position on (the targets kept): the losses before that position must not change.
 * Each row gets its own position, so one extra forward pass tests as many cut points as rows.
 *
 * @param random a source of uniform numbers in [0, 1); the cut points must not be predictable.
 * @throws GraphRejectedError (from the returned function) naming the first row and position that looked ahead.
 */
export function withCausalityCheck(lossFn: TokenLossFn, vocabSize: number, random: () => number = Math.random): TokenLossFn {
  let checked = false;
  return async (inputs, targets, rows, cols) => {
    if (checked || cols < 2) return lossFn(inputs, targets, rows, cols);
    checked = true;
    const cuts = Array.from({ length: rows }, () => 1 + Math.floor(random() * (cols - 1)));
    const changed = inputs.slice();
    cuts.forEach((cut, r) => {
      for (let t = cut; t < cols; t++) {
        const i = r * cols + t;
        changed[i] = (changed[i] + 1 + Math.floor(random() * (vocabSize - 1))) % vocabSize;
      }
    });
    // The changed batch runs first: memory left over from a pass over the real batch could
    // otherwise help a graph repeat the real losses.
    const after = await lossFn(changed, targets, rows, cols);
    const losses = await lossFn(inputs, targets, rows, cols);
    cuts.forEach((cut, r) => {
      for (let t = 0; t < cut; t++) {
        const a = losses[r * cols + t], b = after[r * cols + t];
        if (Math.abs(a - b) > CAUSALITY_TOLERANCE * Math.max(1, Math.abs(a))) {
          throw new GraphRejectedError(
            `Expected the loss at row ${r}, position ${t} to depend only on the tokens up to it, but changing the tokens from position ${cut} on changed it from ${a} to ${b}: the model reads ahead`,
          );
        }
      }
    });
    return losses;
  };
}
