/** Every engine op, one family per file. */
export * from "./create.ts";
export * from "./view.ts";
export * from "./elementwise.ts";
export * from "./reduce.ts";
export * from "./matmul.ts";
export * from "./baddbmm.ts";
export * from "./embedding.ts";
export * from "./rms-norm.ts";
export * from "./rotary.ts";
export * from "./attention.ts";
export * from "./softmax.ts";
export * from "./cross-entropy.ts";
export * from "./optim.ts";
