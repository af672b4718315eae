import { afterEach, describe, expect, it } from "vitest";
import * as E from "../../src/engine/index.ts";

afterEach(() => E.resetArena());

const MiB = 1 << 20;
const floats = (bytes: number) => E.Tensor.empty([bytes / 4]);

describe("the arena", () => {
  it("counts the bytes handed out and not yet released", () => {
    E.resetArena();
    const a = floats(MiB), b = floats(2 * MiB);
    expect(E.memoryStats("cpu").arenaUsedBytes).toBe(3 * MiB);
    a.storage.release();
    expect(E.memoryStats("cpu").arenaUsedBytes).toBe(2 * MiB);
    b.storage.release();
    expect(E.memoryStats("cpu").arenaUsedBytes).toBe(0);
  });

  it("merges released neighbours, so a larger block fits where two small ones were", () => {
    E.resetArena();
    const reserved = E.memoryStats("cpu").arenaReservedBytes;
    const fill = floats(reserved - 2 * MiB); // leaves 2 MiB of the chunk free
    const a = floats(MiB), b = floats(MiB);
    a.storage.release();
    b.storage.release();
    floats(2 * MiB);
    expect(E.memoryStats("cpu").arenaReservedBytes).toBe(reserved);
    expect(fill.storage.alive).toBe(true);
  });

  it("takes the best-fitting free block, keeping large ones whole", () => {
    E.resetArena();
    const reserved = E.memoryStats("cpu").arenaReservedBytes;
    const small = floats(MiB), gap = floats(MiB), large = floats(4 * MiB);
    floats(reserved - 6 * MiB);
    small.storage.release();
    large.storage.release();
    floats(MiB); // fits the 1 MiB hole
    floats(4 * MiB); // so the 4 MiB one is still whole
    expect(E.memoryStats("cpu").arenaReservedBytes).toBe(reserved);
    expect(gap.storage.alive).toBe(true);
  });

  it("peak memory follows live bytes, not what was ever allocated", () => {
    E.resetArena();
    E.resetPeakMemory("cpu");
    const base = E.memoryStats("cpu").peakBytes;
    for (let i = 0; i < 10; i++) floats(MiB).storage.release();
    expect(E.memoryStats("cpu").peakBytes - base).toBe(MiB);
  });
});
