/** Loads the native addon (built by `npm install` into build/Release) and types its functions. */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import type { KernelTable } from "../../native/write-kernel-types.ts";
import type { Id, NativeKernels } from "./native-kernels.ts";
import { skippingMeta } from "./meta.ts";

/**
 * The native addon's functions: the memory functions below, and the kernels, whose signatures
 * come from the addon's kernel table (native/common/kernels.h) through native-kernels.ts.
 */
export interface NativeAddon extends NativeKernels {
  backendInfo(): { backend: "cpu" | "cuda"; device: string; threads: number; cuda: boolean; cudaCompiled: boolean };
  alloc(device: string, dtype: number, numel: number, arena: boolean): Id;
  free(id: Id): void;
  resetArena(): number;
  release(id: Id): void;
  memoryStats(device: string): { persistentBytes: number; arenaUsedBytes: number; arenaReservedBytes: number; peakBytes: number };
  resetPeak(device: string): void;
  synchronize(device: string): void;
  upload(dst: Id, dstOffset: number, data: ArrayBufferView): void;
  download(src: Id, srcOffset: number, count: number): Float32Array | Uint16Array | Int32Array | Float64Array;
  /** The kernel table, from which native/write-kernel-types.ts writes native-kernels.ts. */
  describeKernels(): KernelTable;
}

function load(): NativeAddon {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const file = process.env.AUTORESEARCH_ADDON ?? path.join(root, "build/Release/autoresearch.node");
  if (!existsSync(file)) {
    throw new Error(`The native addon is not built: expected \`${file}\`. Run \`npm install\` (or \`npm run build:native\`) in ${root}.`);
  }
  // Idle OpenMP workers sleep instead of spinning: a spinning pool on a busy machine (tests in
  // parallel, a data loader) turns every parallel region into a timeslice-long wait.
  process.env.OMP_WAIT_POLICY ??= "passive";
  return createRequire(import.meta.url)(file) as NativeAddon;
}

/** The loaded addon, shared by every engine module. */
export const native: NativeAddon = skippingMeta(load());
