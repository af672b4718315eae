/**
 * Every CUDA call that orders with kernels goes on the engine's stream. That stream is created
 * non-blocking, so it does not order with the legacy default stream: a plain cudaMemset or
 * cudaMemcpy, or a launch without a stream, could run before or after the kernels it should
 * follow (for example, clearing the index-error flag after a kernel reported into it).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const dir = path.resolve(import.meta.dirname, "../../native/cuda");
const sources = readdirSync(dir).filter((f) => /\.(cu|h)$/.test(f));

/** `file:line: text` for every call in `text` that takes the legacy default stream. */
function legacyStreamCalls(file: string, text: string): string[] {
  const found: string[] = [];
  text.split("\n").forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, "");
    const launch = /<<<([^>]*)>>>/.exec(code);
    const legacy =
      /\bcuda(?:Memset|Memcpy|Memcpy2D|MemcpyToSymbol|MemcpyFromSymbol)\s*\(/.test(code) ||
      /\bcudaDeviceSynchronize\s*\(/.test(code) ||
      (launch !== null && launch[1].split(",").length < 4);
    if (legacy) found.push(`${file}:${i + 1}: ${line.trim()}`);
  });
  return found;
}

describe("native/cuda streams", () => {
  it("reads some sources", () => {
    expect(sources.length).toBeGreaterThan(5);
  });

  it("no copy, memset, sync or launch uses the legacy default stream", () => {
    const calls = sources.flatMap((f) => legacyStreamCalls(f, readFileSync(path.join(dir, f), "utf8")));
    expect(calls).toEqual([]);
  });

  it("the check finds a legacy call when there is one", () => {
    expect(legacyStreamCalls("x.cu", "  CUDA_CHECK(cudaMemset(p, 0, 4));\n  k<<<1, 32>>>(p);")).toHaveLength(2);
  });
});
