/**
 * The CUDA kernels are compiled with precise f32 math: no global --use_fast_math, which would
 * turn f32 tanh (cross-entropy's softcap, the Tanh/Softcap ops and their gradients) into the
 * hardware approximation (relative error about 5e-4, past the GPU tests' 1e-4) and flush
 * denormals. The build's flags are read from native/CMakeLists.txt (AR_CUDA_FLAGS) and the PTX
 * nvcc makes from them is inspected, so this runs wherever nvcc is, GPU or not.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const nvcc = (() => {
  try {
    execFileSync("nvcc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** The flags native/CMakeLists.txt compiles every .cu file with. */
function buildFlags(): string[] {
  const cmake = readFileSync(path.join(root, "native/CMakeLists.txt"), "utf8");
  const match = /^\s*set\(AR_CUDA_FLAGS ([^)]*)\)/m.exec(cmake);
  if (!match) throw new Error("native/CMakeLists.txt has no `set(AR_CUDA_FLAGS ...)` line");
  return match[1].trim().split(/\s+/);
}

const work = mkdtempSync(path.join(os.tmpdir(), "ptx-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function ptx(file: string, flags: string[]): string {
  const out = path.join(work, `${path.basename(file)}.ptx`);
  execFileSync("nvcc", ["-ptx", "-arch=compute_90a", "-std=c++17", ...flags, "-o", out, path.join(root, file)], { stdio: "pipe" });
  return readFileSync(out, "utf8");
}

/** Approximations that only fast math brings: tanh.approx, and flushed arithmetic (add/sub/mul/fma/div .ftz). */
const FAST_MATH = /tanh\.approx|\b(?:add|sub|mul|fma|div)(?:\.r[nzmp])?(?:\.full)?\.ftz\.f32/g;

describe.skipIf(!nvcc)("CUDA build flags", () => {
  it("the build's flags include no --use_fast_math", () => {
    expect(buildFlags()).not.toContain("--use_fast_math");
  });

  it.each(["native/cuda/cross_entropy.cu", "native/cuda/elementwise.cu"])("%s compiles to precise f32 math", (file) => {
    expect(ptx(file, buildFlags()).match(FAST_MATH) ?? []).toEqual([]);
  });

  it("the check sees fast math when it is there", () => {
    expect(ptx("native/cuda/cross_entropy.cu", [...buildFlags(), "--use_fast_math"]).match(FAST_MATH)?.length).toBeGreaterThan(0);
  });
});
