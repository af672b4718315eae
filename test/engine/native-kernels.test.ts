// The kernel table (native/common/kernels.h) is the one declaration of each kernel: the addon
// exports what it lists, the committed TypeScript types match it, and every binding checks its
// arguments as the table declares, driven here through the real addon.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as E from "../../src/engine/index.ts";
import { native } from "../../src/engine/native.ts";
import { BinaryOp, ReduceOp, UnaryOp } from "../../src/engine/native-kernels.ts";
import { KERNEL_TYPES_FILE, renderKernelTypes } from "../../native/write-kernel-types.ts";

const table = native.describeKernels();
const MEMORY_FUNCTIONS = ["backendInfo", "alloc", "free", "resetArena", "release", "memoryStats", "resetPeak", "synchronize",
  "upload", "download", "describeKernels"];

/** Arguments of the declared types: every tensor is `id` at offset 0, every other number 1. */
function argumentsFor(params: { name: string; type: string }[], id: number): unknown[] {
  return params.map(({ name, type }) => {
    if (type === "Id") return id;
    if (type === "Id[]") return [id];
    if (name.endsWith("Offsets")) return [0];
    if (name.endsWith("Offset") || type in table.enums) return 0;
    return type === "number[]" ? [1] : type === "boolean" ? false : 1;
  });
}

describe("the kernel table", () => {
  it("is what src/engine/native-kernels.ts declares (run `npm run build:native` when this fails)", () => {
    expect(readFileSync(KERNEL_TYPES_FILE, "utf8")).toBe(renderKernelTypes(table));
  });

  it("is exactly the addon's exports besides the memory functions", () => {
    const exported = Object.keys(native).filter((k) => typeof (native as unknown as Record<string, unknown>)[k] === "function");
    expect(exported.sort()).toEqual([...MEMORY_FUNCTIONS, ...table.kernels.map((k) => k.name)].sort());
    expect(new Set(table.kernels.map((k) => k.name)).size).toBe(table.kernels.length);
  });

  it("gives the op ids TypeScript uses, named as the engine's ops are", () => {
    expect(UnaryOp.relu_square).toBe(table.enums.UnaryOp.indexOf("relu_square"));
    expect(Object.keys(UnaryOp)).toEqual(table.enums.UnaryOp);
    expect(Object.keys(BinaryOp)).toEqual(["add", "sub", "mul", "div", "maximum"]);
    expect(Object.keys(ReduceOp)).toEqual(["sum", "max"]);
    for (const name of Object.keys(UnaryOp).concat(Object.keys(BinaryOp))) expect(E.opNames()).toContain(name);
  });
});

describe("every kernel's binding checks its arguments", () => {
  const call = (name: string, args: unknown[]) => () => (native as unknown as Record<string, (...a: unknown[]) => void>)[name](...args);

  it.each(table.kernels.map((k) => [k.name, k] as const))("%s names a missing first argument", (name, kernel) => {
    const first = kernel.params[0];
    const what = first.type.endsWith("[]") ? "an array of integers" : first.type === "boolean" ? "a boolean" : "a number";
    expect(call(name, [])).toThrow(`${name}: argument 0 (${first.name}) must be ${what}`);
  });

  it.each(table.kernels.map((k) => [k.name, k] as const))("%s rejects a storage that is not live", (name, kernel) => {
    const firstTensor = kernel.params.find((p) => p.type === "Id" || p.type === "Id[]")!;
    expect(call(name, argumentsFor(kernel.params, 987654321))).toThrow(`${name} (${firstTensor.name}): storage #987654321 is not live`);
  });

  it.each(table.kernels.map((k) => [k.name, k] as const))("%s rejects an extra argument and an out-of-range extent", (name, kernel) => {
    const t = E.zeros([1]);
    const args = argumentsFor(kernel.params, t.storage.id);
    expect(call(name, [...args, 0])).toThrow(`${name}: expected ${args.length} arguments, got ${args.length + 1}`);
    // Every size and every dim 3: each kernel then reaches past a one-element storage.
    kernel.params.forEach((p, i) => {
      if (p.name.endsWith("Offset") || p.name.endsWith("Offsets") || p.type in table.enums) return;
      if (p.type === "number") args[i] = 3;
      if (p.type === "number[]") args[i] = [3];
    });
    expect(call(name, args)).toThrow(new RegExp(`^${name} \\(\\w+\\): access \\[0, \\d+\\) is outside the storage of 1 elements|^rotary: head dim must be even`));
  });

  it("rejects an unknown enum id, naming the range, and a fractional offset, naming it", () => {
    const t = E.zeros([4]);
    expect(call("unary", [0, t.storage.id, 1.5, t.storage.id, 0, 4, 0])).toThrow("unary: argument 2 (xOffset) must be an integer, got 1.5");
    expect(call("unary", [17, t.storage.id, 0, t.storage.id, 0, 4, 0])).toThrow("unary: unknown op id 17; expected 0 to 16");
    expect(call("reduce", [-1, t.storage.id, 0, t.storage.id, 0, 1, 4, 1])).toThrow("reduce: unknown op id -1; expected 0 to 1");
  });

  it("rejects mismatched dtypes by name", () => {
    const x = E.zeros([4]), y = E.zeros([4], { dtype: "f64" });
    expect(call("unary", [0, x.storage.id, 0, y.storage.id, 0, 4, 0])).toThrow("unary: out is f64 but x is f32");
    const i = E.zeros([4], { dtype: "i32" });
    expect(call("unary", [0, i.storage.id, 0, i.storage.id, 0, 4, 0])).toThrow("unary: expected x to be a floating-point dtype (f32, bf16, f64), got i32");
  });
});
