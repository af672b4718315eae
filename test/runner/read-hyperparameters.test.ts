import { describe, expect, it } from "vitest";
import { readHyperparameters } from "../../src/runner/read-hyperparameters.ts";
import { fixtureTrain } from "../research/fixtures.ts";

describe("readHyperparameters", () => {
  it("reads the const block of the reference-like train.ts, in order, with values", () => {
    const found = readHyperparameters(fixtureTrain).map((p) => [p.name, p.kind, p.value]);
    expect(found).toEqual([
      ["ASPECT_RATIO", "number", 64],
      ["HEAD_DIM", "number", 128],
      ["WINDOW_PATTERN", "string", "SSSL"],
      ["TOTAL_BATCH_SIZE", "power", [2, 19]],
      ["EMBEDDING_LR", "number", 0.6],
      ["UNEMBEDDING_LR", "number", 0.004],
      ["MATRIX_LR", "number", 0.04],
      ["SCALAR_LR", "number", 0.5],
      ["WEIGHT_DECAY", "number", 0.2],
      ["ADAM_BETAS", "numbers", [0.8, 0.95]],
      ["WARMUP_RATIO", "number", 0],
      ["WARMDOWN_RATIO", "number", 0.5],
      ["FINAL_LR_FRAC", "number", 0],
      ["DEPTH", "number", 8],
      ["DEVICE_BATCH_SIZE", "number", 128],
    ]);
  });

  it("locates the initializer inside the statement, and skips what is not a plain literal", () => {
    const source = [
      "const EPS: number = -1e-10; // tiny",
      "const BETAS = [0.9, 0.99] as const;",
      "let MUTABLE = 1;",
      "const lower = 2;",
      "const COMPUTED = DEPTH * 2;",
      "const A = 1, B = 2;",
      "function f() { const INNER = 3; }",
    ].join("\n");
    const [eps, betas, ...rest] = readHyperparameters(source);
    expect(rest).toEqual([]);
    expect(eps).toMatchObject({ name: "EPS", value: -1e-10, statement: "const EPS: number = -1e-10;" });
    expect(eps!.statement.slice(eps!.initializer.start, eps!.initializer.end)).toBe("-1e-10");
    expect(betas).toMatchObject({ name: "BETAS", kind: "numbers", value: [0.9, 0.99] });
    expect(betas!.statement.slice(betas!.initializer.start, betas!.initializer.end)).toBe("[0.9, 0.99] as const");
  });
});
