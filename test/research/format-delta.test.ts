import { describe, expect, it } from "vitest";
import { formatDelta } from "../../src/research/format-delta.ts";

describe("formatDelta", () => {
  it("shows the sign of a gain, a loss and none for zero, with the minus sign", () => {
    expect(formatDelta(-0.0105)).toBe("−0.010500");
    expect(formatDelta(0.009)).toBe("+0.009000");
    expect(formatDelta(0)).toBe("0.000000");
    expect(formatDelta(-2.345, 2)).toBe("−2.35");
  });

  it("never writes a signed zero for a delta that rounds to zero", () => {
    expect(formatDelta(-0.0000001)).toBe("0.000000");
    expect(formatDelta(0.0000004)).toBe("0.000000");
  });
});
