/** Reads a trace directory (graph.json + weights.bin) and checks it before anything is replayed. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ENCODING_BYTES, GRAPH_FILE, WEIGHTS_FILE, type TracedGraph } from "../data/trace-export.ts";
import { checkGraph, GraphRejectedError, type GraphExpectations } from "./check-graph.ts";

/** Host values of a constant, in its storage encoding. */
export type ConstantValues = Float32Array | Float64Array | Int32Array;

/** A checked graph and the values of its constants, by value id. */
export interface LoadedTrace {
  graph: TracedGraph;
  constants: Map<number, ConstantValues>;
}

const ARRAYS = { f32: Float32Array, f64: Float64Array, i32: Int32Array } as const;

/**
 * Loads and checks the trace in `dir` (see {@link checkGraph}).
 *
 * @throws GraphRejectedError when the graph is not JSON or breaks a rule; an Error when the files are missing.
 */
export async function loadTrace(dir: string, expect: Omit<GraphExpectations, "weightsBytes">): Promise<LoadedTrace> {
  const [text, weights] = await Promise.all([readFile(join(dir, GRAPH_FILE), "utf8"), readFile(join(dir, WEIGHTS_FILE))]).catch((error) => {
    throw new Error(`Expected a trace (${GRAPH_FILE} and ${WEIGHTS_FILE}) in \`${dir}\`: ${(error as Error).message}`, { cause: error });
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new GraphRejectedError(`Expected ${GRAPH_FILE} to be JSON: ${(error as Error).message}`);
  }
  const graph = checkGraph(parsed, { ...expect, weightsBytes: weights.byteLength });
  const constants = new Map<number, ConstantValues>();
  for (const c of graph.constants) {
    const start = weights.byteOffset + c.byteOffset;
    const count = c.shape.reduce((n, d) => n * d, 1);
    // A copy: the file's buffer need not be aligned for the element type.
    constants.set(c.id, new ARRAYS[c.encoding](weights.buffer.slice(start, start + count * ENCODING_BYTES[c.encoding])));
  }
  return { graph, constants };
}
