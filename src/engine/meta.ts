/**
 * The meta device, as PyTorch's `device="meta"`: tensors with a shape and a dtype but no memory.
 * A model built on it (`new GPT(config, "meta", ...)`) registers its parameters and can be
 * counted (parameters, FLOPs) without allocating anything; random initialisers skip meta tensors
 * without drawing, so a real model built after it gets the same values from the same seed.
 * Every meta storage has one id that no native allocation has, and the addon's functions do
 * nothing when handed it, so ops and in-place fills on meta tensors run only their shape logic:
 * an op's result is a meta tensor of the right shape and dtype. Reading values throws.
 */

/** The storage id of every meta tensor; far outside the addon's ids and any scalar an op passes. */
export const META_STORAGE_ID = Number.MIN_SAFE_INTEGER;

/** Whether a native call's arguments name a meta storage, directly or in a list of storage ids. */
function touchesMeta(args: readonly unknown[]): boolean {
  return args.some((a) => a === META_STORAGE_ID || (Array.isArray(a) && a.includes(META_STORAGE_ID)));
}

/** The addon with every function made a no-op for calls on meta storage. */
export function skippingMeta<T extends object>(addon: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(addon)) {
    wrapped[name] = typeof fn === "function" ? (...args: unknown[]) => (touchesMeta(args) ? undefined : fn(...args)) : fn;
  }
  return wrapped as T;
}
