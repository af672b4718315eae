/**
 * Proves from a traced graph that the loss at each position depends only on the tokens of its
 * own row up to that position: the batch and time axes of the input are followed through every
 * node with the trusted rules of causality-rules.ts, and a graph whose steps those rules cannot
 * follow is rejected, naming the node. Nothing is run: the proof reads ops, attrs and shapes.
 *
 * The same walk tells where the batch axis sits in every tensor, so the graph can be replayed
 * at a batch size of the evaluator's choosing (see graphAtBatchSize).
 */
import type { TracedGraph, TracedNode } from "../data/trace-export.ts";
import { GraphRejectedError } from "./check-graph.ts";
import { CAUSALITY_RULES, type Operand, type Unreadable } from "./causality-rules.ts";
import { axesOf, freeLayout, layoutShape, NotProvable, settleAxes, type BatchFactor, type Layout, type TimeFactor } from "./time-axes.ts";

const PREFIX = "Cannot prove the graph causal:";

function reject(message: string): never {
  throw new GraphRejectedError(`${PREFIX} ${message}`);
}

const where = (node: TracedNode, i: number) => `node ${i} (${node.op})`;
const isUnreadable = (v: Layout | Unreadable): v is Unreadable => "unreadable" in v;

/**
 * The layout of every value of `graph` (see time-axes.ts), by id; an output no op may read
 * holds the reason instead. Linear in the graph's size.
 *
 * @throws GraphRejectedError naming the first node whose step the rules cannot follow.
 */
export function traceLayouts(graph: TracedGraph): Map<number, Layout | Unreadable> {
  const [B, T] = graph.inputs.idx.shape;
  const batch: BatchFactor = { kind: "batch", size: B };
  const position = (ahead: number, aheadFrom: string | null): TimeFactor => ({ kind: "time", size: T, ahead, aheadFrom });
  const values = new Map<number, { shape: number[]; dtype: TracedGraph["inputs"]["idx"]["dtype"]; layout: Layout | Unreadable }>([
    [0, { ...graph.inputs.idx, layout: [[batch], [position(0, null)]] }],
    // targets[t] is the token at t + 1: read anywhere but as the final loss's labels, it is look-ahead.
    [1, { ...graph.inputs.targets, layout: [[batch], [position(1, "the targets input")]] }],
  ]);
  for (const c of graph.constants) values.set(c.id, { ...c, layout: freeLayout(c.shape) });

  graph.nodes.forEach((node, i) => {
    const rule = Object.hasOwn(CAUSALITY_RULES, node.op) ? CAUSALITY_RULES[node.op] : undefined;
    if (!rule) reject(`${where(node, i)} has no rule in the evaluator's causality table; the table covers ${Object.keys(CAUSALITY_RULES).sort().join(", ")}`);
    const operands = node.inputs.map((id, k): Operand => {
      const v = values.get(id)!;
      if (isUnreadable(v.layout)) reject(`${where(node, i)} reads value ${id} (its input ${k}), which ${v.layout.unreadable}`);
      if (v.shape.includes(0)) reject(`${where(node, i)} reads an empty tensor ${JSON.stringify(v.shape)} (its input ${k})`);
      return { shape: v.shape, dtype: v.dtype, layout: v.layout, isLabels: id === 1 && k === 1 && i === graph.nodes.length - 1 };
    });
    let outputs: (Layout | Unreadable)[];
    try {
      outputs = rule.outputs(operands, node.attrs, where(node, i)).map((o) => (isUnreadable(o) ? o : settleAxes(o)));
    } catch (error) {
      if (error instanceof NotProvable) reject(`${where(node, i)} ${error.message}`);
      throw error;
    }
    if (outputs.length !== node.outputs.length) reject(`${where(node, i)} gives ${outputs.length} outputs, but the trace lists ${node.outputs.length}`);
    node.outputs.forEach((out, k) => {
      const layout = outputs[k];
      if (!isUnreadable(layout) && JSON.stringify(layoutShape(layout)) !== JSON.stringify(out.shape)) {
        reject(`${where(node, i)} gives output ${k} of shape ${JSON.stringify(layoutShape(layout))}, but the trace says ${JSON.stringify(out.shape)}`);
      }
      values.set(out.id, { ...out, layout });
    });
  });
  return new Map([...values].map(([id, v]) => [id, v.layout]));
}

/**
 * Proves `graph` causal: its loss at (row b, position t) reads the input tokens of row b at
 * positions <= t only, and its target at (b, t) only. A graph that is causal but beyond the
 * rules (a hand-made mask, a T x T mixing matrix, a reduction over time) is rejected too.
 *
 * @throws GraphRejectedError naming the node the proof stops at, or the look-ahead it found.
 */
export function proveCausality(graph: TracedGraph): void {
  const loss = traceLayouts(graph).get(graph.output)!;
  if ("unreadable" in loss) reject(`the output ${loss.unreadable}`);
  const [rows, positions] = loss.map(axesOf);
  if (loss.length !== 2 || rows.length !== 1 || rows[0].kind !== "batch" || positions.some((f) => f.kind === "batch")) {
    reject("the loss's first dim is not the batch axis alone, so a row's loss may read other rows");
  }
  for (const f of positions as TimeFactor[]) {
    if (f.ahead > 0) reject(`the loss at position t reads tokens up to position t + ${f.ahead}; the look-ahead enters at ${f.aheadFrom}`);
  }
}

/**
 * `graph` as it runs on batches of `batchSize` rows: the inputs' and every output's shapes and
 * the size-bearing attrs (reshape's, expand's shape) recomputed from where the batch axis sits.
 *
 * @throws GraphRejectedError when the batch axis cannot be followed (see traceLayouts).
 */
export function graphAtBatchSize(graph: TracedGraph, batchSize: number): TracedGraph {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`Expected the batch size to be an integer >= 1, got \`${batchSize}\``);
  const layouts = traceLayouts(graph);
  const T = graph.inputs.idx.shape[1];
  const resized = (v: { id: number; shape: number[] }) => {
    const layout = layouts.get(v.id)!;
    return "unreadable" in layout ? v.shape : layoutShape(layout, batchSize);
  };
  const nodes = graph.nodes.map((node) => {
    const outputs = node.outputs.map((o) => ({ ...o, shape: resized(o) }));
    const resize = CAUSALITY_RULES[node.op].resize;
    return { ...node, attrs: resize ? resize(node.attrs, outputs.map((o) => o.shape)) : node.attrs, outputs };
  });
  const inputs = { idx: { ...graph.inputs.idx, shape: [batchSize, T] }, targets: { ...graph.inputs.targets, shape: [batchSize, T] } };
  return { ...graph, inputs, nodes };
}
