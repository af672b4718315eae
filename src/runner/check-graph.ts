/**
 * Checks a traced graph before the evaluator replays it. The graph was written by the process
 * that ran the agent's code, so every field is untrusted: it must be well formed, use only
 * registered ops, and compute a language model's loss the honest way.
 */
import { opNames } from "../engine/index.ts";
import { ENCODING_BYTES, GRAPH_FORMAT, type TracedConstant, type TracedGraph, type TracedValue } from "../data/trace-export.ts";

/** A graph that breaks the rules of the metric; the run is rejected with this message. */
export class GraphRejectedError extends Error {
  override name = "GraphRejectedError";
}

/** What the graph must match: the profile's constants and the size of the weights file. */
export interface GraphExpectations {
  vocabSize: number;
  seqLen: number;
  weightsBytes: number;
}

/** The dtypes a traced value may have. */
export const DTYPES = new Set(["f32", "bf16", "i32", "f64"]);
/** A value for an error message, as JSON in backticks, cut at 100 characters. */
export const show = (v: unknown) => `\`${JSON.stringify(v)?.slice(0, 100) ?? String(v)}\``;

function reject(message: string): never {
  throw new GraphRejectedError(message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function checkValue(v: unknown, where: string): TracedValue {
  if (!isRecord(v)) reject(`Expected ${where} to be an object, got ${show(v)}`);
  if (!isIndex(v.id)) reject(`Expected the id of ${where} to be an integer >= 0, got ${show(v.id)}`);
  if (!Array.isArray(v.shape) || !v.shape.every(isIndex)) reject(`Expected the shape of ${where} to be a list of integers >= 0, got ${show(v.shape)}`);
  if (!DTYPES.has(v.dtype as string)) reject(`Expected the dtype of ${where} to be one of f32, bf16, i32, f64, got ${show(v.dtype)}`);
  return v as unknown as TracedValue;
}

const numel = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Validates `value` (parsed graph.json) and returns it typed. Beyond the format it enforces
 * the metric's rules:
 * - every op is a registered engine op, and every value is defined once, before it is used;
 * - the inputs are i32 (B, seqLen) token ids and targets;
 * - the output is the per-token loss of the last op, a `cross_entropy` over logits of
 *   `vocabSize` classes, with an ignore index < 0 (no real token is skipped);
 * - the targets are read by that op only, so no other computation sees them.
 *
 * @throws GraphRejectedError naming the first field or rule that fails.
 */
export function checkGraph(value: unknown, expect: GraphExpectations): TracedGraph {
  if (!isRecord(value)) reject(`Expected the graph to be an object, got ${show(value)}`);
  if (value.format !== GRAPH_FORMAT) reject(`Expected the graph format \`${GRAPH_FORMAT}\`, got ${show(value.format)}`);
  if (!isRecord(value.inputs)) reject(`Expected the graph's inputs to be an object, got ${show(value.inputs)}`);
  const idx = checkValue(value.inputs.idx, "input `idx`");
  const targets = checkValue(value.inputs.targets, "input `targets`");
  const batch = idx.shape[0];
  for (const [name, v, id] of [["idx", idx, 0], ["targets", targets, 1]] as const) {
    if (v.id !== id) reject(`Expected input \`${name}\` to have id ${id}, got ${show(v.id)}`);
    if (v.dtype !== "i32" || v.shape.length !== 2 || !(batch >= 1) || v.shape[0] !== batch || v.shape[1] !== expect.seqLen) {
      reject(`Expected input \`${name}\` to be i32 of shape [B, ${expect.seqLen}] (B >= 1, the same for both), got ${v.dtype} ${show(v.shape)}`);
    }
  }

  const defined = new Map<number, TracedValue>([[0, idx], [1, targets]]);
  const define = (v: TracedValue, where: string) => {
    if (defined.has(v.id)) reject(`Expected every value id to be defined once, got id ${v.id} again in ${where}`);
    defined.set(v.id, v);
  };

  if (!Array.isArray(value.constants)) reject(`Expected the graph's constants to be a list, got ${show(value.constants)}`);
  value.constants.forEach((c: unknown, i: number) => {
    const where = `constant ${i}`;
    const v = checkValue(c, where) as TracedConstant;
    const encoding = v.dtype === "bf16" ? "f32" : v.dtype;
    if (v.encoding !== encoding) reject(`Expected the encoding of ${where} (${v.dtype}) to be \`${encoding}\`, got ${show(v.encoding)}`);
    if (typeof v.name !== "string") reject(`Expected the name of ${where} to be a string, got ${show(v.name)}`);
    const bytes = numel(v.shape) * ENCODING_BYTES[encoding];
    if (!isIndex(v.byteOffset) || v.byteOffset % 8 !== 0 || v.byteOffset + bytes > expect.weightsBytes) {
      reject(`Expected ${where} to lie in the ${expect.weightsBytes}-byte weights file at an offset that is a multiple of 8, got offset ${show(v.byteOffset)} and ${bytes} bytes`);
    }
    define(v, where);
  });

  const ops = new Set(opNames());
  if (!Array.isArray(value.nodes) || value.nodes.length === 0) reject(`Expected the graph's nodes to be a non-empty list, got ${show(value.nodes)}`);
  const nodes = value.nodes as unknown[];
  const lastOp = (nodes.at(-1) as { op?: unknown } | null)?.op;
  if (lastOp !== "cross_entropy") reject(`Expected the last op to be cross_entropy (the loss), got ${show(lastOp)}`);
  nodes.forEach((n, i) => {
    if (!isRecord(n)) reject(`Expected node ${i} to be an object, got ${show(n)}`);
    if (typeof n.op !== "string" || !ops.has(n.op)) reject(`Expected node ${i} to apply a registered op (${[...ops].join(", ")}), got ${show(n.op)}`);
    if (!Array.isArray(n.inputs) || !Array.isArray(n.outputs) || n.outputs.length === 0) {
      reject(`Expected node ${i} (${n.op}) to list its inputs and at least one output, got ${show({ inputs: n.inputs, outputs: n.outputs })}`);
    }
    for (const id of n.inputs) {
      if (!defined.has(id)) reject(`Expected node ${i} (${n.op}) to read values defined before it, got unknown id ${show(id)}`);
      if (id === 1 && i !== nodes.length - 1) reject(`Expected only the final cross_entropy to read the targets, got node ${i} (${n.op})`);
    }
    n.outputs.forEach((o: unknown, k: number) => define(checkValue(o, `output ${k} of node ${i} (${n.op})`), `node ${i}`));
  });

  const last = nodes[nodes.length - 1] as TracedGraph["nodes"][number];
  if (value.output !== last.outputs[0].id) reject(`Expected the output to be the per-token loss of the last cross_entropy (id ${last.outputs[0].id}), got ${show(value.output)}`);
  if (last.inputs.length !== 2 || last.inputs[1] !== 1) reject(`Expected the last cross_entropy to read (logits, targets), got ids ${show(last.inputs)}`);
  const logits = defined.get(last.inputs[0])!;
  if (logits.dtype === "i32" || !sameShape(logits.shape, [...targets.shape, expect.vocabSize])) {
    reject(`Expected the logits to be floating-point of shape ${show([...targets.shape, expect.vocabSize])}, got ${logits.dtype} ${show(logits.shape)}`);
  }
  const attrs = last.attrs as Record<string, unknown> | null;
  if (!isRecord(attrs) || !Number.isSafeInteger(attrs.ignoreIndex) || (attrs.ignoreIndex as number) >= 0) {
    reject(`Expected the cross_entropy's ignoreIndex to be a negative integer (no token may be skipped), got ${show(attrs?.ignoreIndex)}`);
  }
  if (!sameShape(defined.get(value.output as number)!.shape, targets.shape)) {
    reject(`Expected one loss per target ${show(targets.shape)}, got ${show(defined.get(value.output as number)!.shape)}`);
  }
  return value as unknown as TracedGraph;
}
