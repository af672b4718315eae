/** Mixed precision like torch.autocast: matmuls run in the autocast dtype, other ops promote. */
import type { DType } from "./dtype.ts";

let current: DType | null = null;

/** Runs `fn` with matmuls computed in `dtype` ("bf16" on the GPU; "f32" leaves everything as is). */
export function autocast<T>(dtype: DType, fn: () => T): T {
  if (dtype === "i32") throw new Error("autocast: expected a floating-point dtype, got i32");
  const prev = current;
  current = dtype;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** The active autocast dtype, or null outside autocast. */
export function autocastDtype(): DType | null {
  return current;
}

const RANK: Record<DType, number> = { i32: 0, bf16: 1, f32: 2, f64: 3 };

/** The wider of two floating-point dtypes (PyTorch's type promotion for mixed float inputs). */
export function promote(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}
