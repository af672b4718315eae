/** Mixed precision like torch.autocast: matmuls run in the autocast dtype, other ops promote. */
import { callThatMade } from "./module-scope.ts";
import { isGradEnabled } from "./grad-mode.ts";
import type { DType } from "./dtype.ts";
import { logAllocationsTo } from "./memory.ts";
import type { Tensor } from "./tensor.ts";

let current: DType | null = null;
/** The outermost autocast region's casts: by source tensor, then by dtype and grad mode. */
let casts: Map<Tensor, Map<string, Tensor>> | null = null;

/** Runs `fn` with matmuls computed in `dtype` ("bf16" on the GPU; "f32" leaves everything as is). */
export function autocast<T>(dtype: DType, fn: () => T): T {
  if (dtype === "i32") throw new Error("autocast: expected a floating-point dtype, got i32");
  const prev = current, prevCasts = casts;
  current = dtype;
  casts ??= new Map();
  try {
    return fn();
  } finally {
    current = prev;
    casts = prevCasts;
  }
}

/**
 * Inside autocast, each tensor is cast to a dtype once (torch caches its weight casts the same
 * way): the q, k and v projections of one normed input share one bf16 copy. The copy belongs to
 * the module call that made its source, so it lives as long as the source, not as long as the
 * call that asked first. Outside autocast, `make()` runs every time.
 */
export function castOnce(x: Tensor, dtype: DType, make: () => Tensor): Tensor {
  if (!casts) return make();
  const key = `${dtype}:${isGradEnabled()}`;
  let bySource = casts.get(x);
  if (!bySource) casts.set(x, (bySource = new Map()));
  const hit = bySource.get(key);
  if (hit?.storage.alive) return hit;
  const home = callThatMade(x.storage);
  const made = home ? logAllocationsTo(home, make) : make();
  bySource.set(key, made);
  return made;
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
