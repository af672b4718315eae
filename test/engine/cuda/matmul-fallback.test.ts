/**
 * matmul's own GEMM kernel, which runs where cuBLASLt's heuristic has no algorithm (odd shapes
 * and alignments). AUTORESEARCH_MATMUL_FALLBACK=1 forces it for every plan built meanwhile; the
 * shapes here are used by no other test, so each builds a fresh plan.
 */
import { afterEach, beforeEach, describe, it } from "vitest";
import { randn } from "../../../src/engine/index.ts";
import { expectSameOnDevices, hasCuda } from "./compare-devices.ts";

describe.skipIf(!hasCuda)("CUDA matmul fallback kernel", () => {
  beforeEach(() => {
    process.env.AUTORESEARCH_MATMUL_FALLBACK = "1";
  });
  afterEach(() => {
    delete process.env.AUTORESEARCH_MATMUL_FALLBACK;
  });

  it.each(["f32", "bf16", "f64"] as const)("%s: plain, transposed, batched and offset views match the CPU", (dtype) => {
    expectSameOnDevices([randn([37, 29], { dtype }), randn([29, 23], { dtype })], (a, b) => a.matmul(b), { grad: true });
    expectSameOnDevices([randn([29, 37], { dtype }), randn([23, 29], { dtype })], (a, b) => a.T.matmul(b.T), { grad: true });
    expectSameOnDevices([randn([5, 19, 13], { dtype }), randn([5, 13, 11], { dtype })], (a, b) => a.matmul(b), { grad: true });
    expectSameOnDevices([randn([11, 31], { dtype }), randn([31, 41], { dtype })], (a, b) => a.slice(0, 1, 11).matmul(b.slice(1, 3, 38)));
  });

  it("a broadcast weight's gradient (a shared output accumulated over the batch) matches the CPU", () => {
    expectSameOnDevices([randn([3, 7, 21]), randn([21, 9])], (x, w) => x.matmul(w), { grad: true });
  });
});
