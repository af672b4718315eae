/**
 * The traced forward pass: what the training process hands the evaluator. One forward pass
 * of the model is recorded op by op into a data-only graph (op names, attrs, value refs,
 * shapes, dtypes), and every tensor the ops read that no recorded op produced (parameters,
 * buffers, constants) is saved with its values. Data crosses over, never code.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { noGrad, resetArena, setTraceHook, tensor, type DType, type Tensor } from "../engine/index.ts";
import type { LossModel } from "./model-bpb.ts";
import { writeFileAtomic } from "./write-file-atomic.ts";

/** The graph's file in a trace directory (written last: its presence means the trace is whole). */
export const GRAPH_FILE = "graph.json";
/** The constants' values, little-endian, at the byte offsets the graph names. */
export const WEIGHTS_FILE = "weights.bin";
/** The `format` field of every graph this module writes. */
export const GRAPH_FORMAT = "autoresearch-graph/1";

/** One value of the graph: a tensor known by its id, shape and dtype. */
export interface TracedValue {
  id: number;
  shape: number[];
  dtype: DType;
}

/** A tensor no recorded op produced: a parameter, a buffer or a constant, with its values. */
export interface TracedConstant extends TracedValue {
  /** The parameter's name when it has one ("h.0.attn.c_q.weight"), else "". */
  name: string;
  /** Where its values start in the weights file. */
  byteOffset: number;
  /** How the values are stored: bf16 is stored as f32 (exactly). */
  encoding: "f32" | "f64" | "i32";
}

/** One op application: outputs = op(inputs, attrs). */
export interface TracedNode {
  op: string;
  attrs: unknown;
  /** Ids of the values the op read, in order. */
  inputs: number[];
  outputs: TracedValue[];
}

/** A forward pass `model.forward(idx, targets, "none")` as data. */
export interface TracedGraph {
  format: typeof GRAPH_FORMAT;
  /** Token ids and next-token targets, i32 (B, T); ids 0 and 1. */
  inputs: { idx: TracedValue; targets: TracedValue };
  constants: TracedConstant[];
  nodes: TracedNode[];
  /** The id of the value holding the per-token losses. */
  output: number;
}

/** Bytes per stored element of each encoding. */
export const ENCODING_BYTES = { f32: 4, f64: 8, i32: 4 } as const;

const encodingOf = (dtype: DType): TracedConstant["encoding"] => (dtype === "bf16" ? "f32" : dtype);

/**
 * Records one forward pass of `model` on a (batchSize, seqLen) batch with reduction "none".
 * The batch's values do not matter: the graph is replayed on other data.
 *
 * @returns the graph and the bytes of the weights file.
 */
export function traceForward(model: LossModel, batchSize: number, seqLen: number): { graph: TracedGraph; weights: Uint8Array } {
  const params = model.parameters(); // also names every parameter
  const device = params[0]?.device ?? "cpu";
  const zeros = () => tensor(new Int32Array(batchSize * seqLen), [batchSize, seqLen], { dtype: "i32", device });
  const idx = zeros(), targets = zeros();
  const ids = new Map<Tensor, number>([[idx, 0], [targets, 1]]);
  const value = (t: Tensor, id: number): TracedValue => ({ id, shape: [...t.shape], dtype: t.dtype });
  const constants: TracedConstant[] = [];
  const chunks: Uint8Array[] = [];
  const nodes: TracedNode[] = [];
  let bytes = 0;
  let nextId = 2;

  const ref = (t: Tensor): number => {
    const known = ids.get(t);
    if (known !== undefined) return known;
    const id = nextId++;
    ids.set(t, id);
    // Values are read when first used, before any later in-place change or arena reset.
    const data = t.toArray();
    const byteOffset = Math.ceil(bytes / 8) * 8;
    if (byteOffset > bytes) chunks.push(new Uint8Array(byteOffset - bytes));
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    bytes = byteOffset + data.byteLength;
    constants.push({ ...value(t, id), name: t.name, byteOffset, encoding: encodingOf(t.dtype) });
    return id;
  };

  const previous = setTraceHook((op, inputs, attrs, outputs) => {
    const inputIds = inputs.map(ref);
    const outputValues = outputs.map((o) => {
      const id = nextId++;
      ids.set(o, id);
      return value(o, id);
    });
    nodes.push({ op, attrs: JSON.parse(JSON.stringify(attrs ?? null)), inputs: inputIds, outputs: outputValues });
  });
  let loss: Tensor;
  try {
    loss = noGrad(() => model.forward(idx, targets, "none"));
  } finally {
    setTraceHook(previous);
  }
  const output = ids.get(loss);
  resetArena();
  if (output === undefined || output < 2 || constants.some((c) => c.id === output)) {
    throw new Error("Expected model.forward to return the per-token losses computed by engine ops, got a tensor that no traced op produced");
  }
  const weights = new Uint8Array(bytes);
  let at = 0;
  for (const chunk of chunks) {
    weights.set(chunk, at);
    at += chunk.byteLength;
  }
  return { graph: { format: GRAPH_FORMAT, inputs: { idx: value(idx, 0), targets: value(targets, 1) }, constants, nodes, output }, weights };
}

/**
 * Traces `model`'s forward pass (see {@link traceForward}) and writes it to `dir` as
 * `graph.json` and `weights.bin`, the graph last.
 */
export async function exportTrace(model: LossModel, batchSize: number, seqLen: number, dir: string): Promise<TracedGraph> {
  const { graph, weights } = traceForward(model, batchSize, seqLen);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, WEIGHTS_FILE), weights);
  await writeFileAtomic(join(dir, GRAPH_FILE), JSON.stringify(graph));
  return graph;
}
