import { describe, expect, it } from "vitest";
import { traceForward, type TracedGraph } from "../../src/data/trace-export.ts";
import { checkGraph, GraphRejectedError } from "../../src/runner/check-graph.ts";
import { tinyLM } from "./tiny-lm.ts";

const { graph, weights } = traceForward(tinyLM(32, 8), 2, 5);
const expectations = { vocabSize: 32, seqLen: 5, weightsBytes: weights.byteLength };

/** checkGraph on a copy of the honest graph changed by `edit`. */
function checkEdited(edit: (g: TracedGraph) => void, expect = expectations) {
  const copy = structuredClone(graph);
  edit(copy);
  return () => checkGraph(copy, expect);
}

describe("checkGraph", () => {
  it("accepts the graph of an honest forward pass", () => {
    expect(checkGraph(structuredClone(graph), expectations)).toEqual(graph);
  });

  it.each([
    ["a value that is not a graph", () => () => checkGraph([], expectations), "Expected the graph to be an object, got `[]`"],
    ["another format", () => checkEdited((g) => ((g as { format: string }).format = "onnx")), "Expected the graph format `autoresearch-graph/1`, got `\"onnx\"`"],
    ["another sequence length", () => checkEdited(() => {}, { ...expectations, seqLen: 6 }), "Expected input `idx` to be i32 of shape [B, 6]"],
    ["f32 targets", () => checkEdited((g) => (g.inputs.targets.dtype = "f32")), "Expected input `targets` to be i32"],
    ["an op that is not registered", () => checkEdited((g) => (g.nodes[0].op = "exec")), "Expected node 0 to apply a registered op"],
    ["a reference to nothing", () => checkEdited((g) => (g.nodes[0].inputs[0] = 999)), "Expected node 0 (embedding) to read values defined before it, got unknown id `999`"],
    ["a value read before it is made", () => checkEdited((g) => (g.nodes[0].inputs[0] = g.nodes[2].outputs[0].id)), "to read values defined before it"],
    ["an id defined twice", () => checkEdited((g) => (g.nodes[1].outputs[0].id = g.nodes[0].outputs[0].id)), "Expected every value id to be defined once"],
    ["the targets read by another op", () => checkEdited((g) => g.nodes[1].inputs.push(1)), "Expected only the final cross_entropy to read the targets, got node 1"],
    ["a loss that is not the last cross_entropy's", () => checkEdited((g) => (g.output = g.nodes[0].outputs[0].id)), "Expected the output to be the per-token loss of the last cross_entropy"],
    ["an ignore index that skips a real token", () => checkEdited((g) => ((g.nodes.at(-1)!.attrs as { ignoreIndex: number }).ignoreIndex = 3)), "Expected the cross_entropy's ignoreIndex to be a negative integer"],
    ["logits over fewer classes than the vocabulary", () => checkEdited(() => {}, { ...expectations, vocabSize: 64 }), "Expected the logits to be floating-point of shape `[2,5,64]`, got f32 `[2,5,32]`"],
    ["a constant outside the weights file", () => checkEdited((g) => (g.constants[0].byteOffset = weights.byteLength)), "to lie in the"],
    ["a constant stored in another encoding", () => checkEdited((g) => (g.constants[0].encoding = "i32")), "Expected the encoding of constant 0 (f32) to be `f32`, got `\"i32\"`"],
    ["a node without outputs", () => checkEdited((g) => (g.nodes[0].outputs = [])), "to list its inputs and at least one output"],
  ])("rejects %s", (_, make, message) => {
    const check = make();
    expect(check).toThrow(GraphRejectedError);
    expect(check).toThrow(message);
  });

  it("rejects a loss computed after the cross_entropy (e.g. scaled to zero)", () => {
    const check = checkEdited((g) => {
      const loss = g.nodes.at(-1)!.outputs[0];
      g.nodes.push({ op: "mul_scalar", attrs: { s: 0 }, inputs: [loss.id], outputs: [{ ...loss, id: 9999 }] });
      g.output = 9999;
    });
    expect(check).toThrow("Expected the last op to be cross_entropy (the loss), got `\"mul_scalar\"`");
  });
});
