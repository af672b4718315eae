import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { setTraceHook, tensor } from "../../src/engine/index.ts";
import { exportTrace, GRAPH_FILE, GRAPH_FORMAT, traceForward, WEIGHTS_FILE } from "../../src/data/trace-export.ts";
import { tinyLM } from "../runner/tiny-lm.ts";

describe("traceForward", () => {
  it("records the forward pass as data: inputs, named constants with their values, nodes in order, the loss", () => {
    const model = tinyLM(32, 8);
    const { graph, weights } = traceForward(model, 2, 5);
    expect(graph.format).toBe(GRAPH_FORMAT);
    expect(graph.inputs).toEqual({ idx: { id: 0, shape: [2, 5], dtype: "i32" }, targets: { id: 1, shape: [2, 5], dtype: "i32" } });

    // Every parameter is a constant whose stored bytes are its values.
    for (const [name, param] of model.namedParameters()) {
      const constant = graph.constants.find((c) => c.name === name)!;
      expect(constant, name).toMatchObject({ shape: [...param.shape], dtype: "f32", encoding: "f32" });
      const stored = new Float32Array(weights.slice(constant.byteOffset, constant.byteOffset + param.numel * 4).buffer);
      expect(stored).toEqual(param.toArray());
    }

    // Values are defined once and before use; the targets feed only the final cross_entropy.
    const defined = new Set([0, 1, ...graph.constants.map((c) => c.id)]);
    for (const node of graph.nodes) {
      for (const id of node.inputs) expect(defined.has(id), `${node.op} reads ${id}`).toBe(true);
      for (const out of node.outputs) {
        expect(defined.has(out.id)).toBe(false);
        defined.add(out.id);
      }
    }
    const last = graph.nodes.at(-1)!;
    expect(last.op).toBe("cross_entropy");
    expect(last.inputs[1]).toBe(1);
    expect(last.attrs).toEqual({ ignoreIndex: -1, softcap: 0 });
    expect(graph.output).toBe(last.outputs[0].id);
    expect(last.outputs[0]).toMatchObject({ shape: [2, 5], dtype: "f32" });
    expect(graph.nodes.filter((n) => n.inputs.includes(1))).toEqual([last]);
    expect(graph.nodes.map((n) => n.op)).toContain("attention");
  });

  it("leaves no trace hook behind", () => {
    traceForward(tinyLM(16, 4), 1, 3);
    expect(setTraceHook(null)).toBeNull();
  });

  it("refuses a forward pass whose result no traced op produced", () => {
    const model = tinyLM(16, 4);
    const constant = tensor([1, 2, 3], [1, 3]);
    const cheat = { parameters: () => model.parameters(), forward: () => constant };
    expect(() => traceForward(cheat, 1, 3)).toThrow("Expected model.forward to return the per-token losses computed by engine ops");
    const echo = { parameters: () => model.parameters(), forward: (_idx: unknown, targets: never) => targets };
    expect(() => traceForward(echo, 1, 3)).toThrow("got a tensor that no traced op produced");
  });
});

describe("exportTrace", () => {
  it("writes graph.json and weights.bin that hold what traceForward returns", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "ar-trace-")), "trace");
    const model = tinyLM(32, 8);
    const graph = await exportTrace(model, 2, 4, dir);
    expect(JSON.parse(readFileSync(join(dir, GRAPH_FILE), "utf8"))).toEqual(graph);
    expect(new Uint8Array(readFileSync(join(dir, WEIGHTS_FILE)))).toEqual(traceForward(model, 2, 4).weights);
  });
});
