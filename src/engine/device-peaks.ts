/** Dense bf16 tensor-core peaks (FLOP/s, no sparsity) of known GPUs, for MFU. */
const PEAKS: [RegExp, number][] = [
  [/H200/i, 989.5e12],
  [/H100.*(PCIe)/i, 756e12],
  [/H100|H800|GH200/i, 989.5e12],
  [/B200/i, 2250e12],
  [/A100|A800/i, 312e12],
  [/L40S/i, 362e12],
  [/A10G/i, 70e12],
  [/RTX 4090/i, 165.2e12],
  [/RTX 3090/i, 71e12],
];

/** The device's bf16 peak, or null when unknown (the CPU, or a GPU not in the table). */
export function peakBf16Flops(deviceName: string): number | null {
  return PEAKS.find(([re]) => re.test(deviceName))?.[1] ?? null;
}
