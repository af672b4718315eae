/**
 * The autoresearch tensor engine: PyTorch-shaped tensors, autograd, nn and optimizers over the
 * native addon (CPU reference backend, CUDA when built and present).
 */
import { native } from "./native.ts";

export { Tensor, type TensorLike } from "./tensor.ts";
export type { DType, Device } from "./dtype.ts";
export { noGrad, isGradEnabled } from "./grad-mode.ts";
export { autocast, autocastDtype } from "./autocast.ts";
export { defineOp, getOp, opNames, type OpDef } from "./op-registry.ts";
export { setTraceHook, type TraceHook } from "./dispatch.ts";
export { persistent, resetArena, memoryStats, resetPeakMemory, synchronize, type MemoryStats } from "./memory.ts";
export * from "./ops/index.ts";
export * as F from "./functional.ts";
export * as nn from "./nn.ts";
export { AdamW, type AdamWGroup } from "./optim/adamw.ts";
export { peakBf16Flops } from "./device-peaks.ts";
export { startOpTimer, stopOpTimer, type OpTime } from "./op-timer.ts";
export { Muon, polarExpress, POLAR_EXPRESS_COEFFS, type MuonGroup } from "./optim/muon.ts";

export interface BackendInfo {
  /** "cuda" when the addon was built with CUDA and a GPU is present, else "cpu". */
  backend: "cpu" | "cuda";
  /** The GPU's or CPU's name. */
  device: string;
  threads: number;
  cudaCompiled: boolean;
}

/** Which backend the engine will use by default, and on what device. */
export function backend(): BackendInfo {
  const info = native.backendInfo();
  return { backend: info.backend, device: info.device, threads: info.threads, cudaCompiled: info.cudaCompiled };
}
