/** Element types; the numeric ids match native/common/dtype.h. */
export type DType = "f32" | "bf16" | "i32" | "f64";

export const DTYPE_ID: Record<DType, number> = { f32: 0, bf16: 1, i32: 2, f64: 3 };

/** Machine epsilon per dtype: torch's default eps for rms_norm. */
export const DTYPE_EPS: Record<DType, number> = { f32: 1.1920928955078125e-7, bf16: 0.0078125, i32: 0, f64: 2.220446049250313e-16 };

/** The dtype statistics (rstd, lse, losses, optimizer moments) are kept in. */
export function statDtype(dtype: DType): DType {
  return dtype === "f64" ? "f64" : "f32";
}

export function isFloat(dtype: DType): boolean {
  return dtype !== "i32";
}

/** Where a tensor lives; "meta" has shapes and dtypes but no memory (see meta.ts). */
export type Device = "cpu" | "cuda" | "meta";
