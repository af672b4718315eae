import { describe, expect, it } from "vitest";
import { studentTCdf, studentTQuantile } from "../../src/research/student-t.ts";

describe("Student's t", () => {
  it("matches the closed forms at 1 and 2 degrees of freedom", () => {
    for (const p of [1e-6, 0.01, 0.04, 0.3, 0.9]) {
      // Relative: at p = 1e-6 the quantile is about -3e5.
      expect(studentTQuantile(p, 1) / Math.tan(Math.PI * (p - 0.5))).toBeCloseTo(1, 9);
      expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 9);
    }
    expect(studentTQuantile(0.5, 3)).toBe(0);
    // At 1 df the distribution function is 1/2 + atan(t) / pi.
    for (const t of [-50, -2, 0, 0.7, 3]) expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
  });

  it("matches published table values and tends to the normal", () => {
    // Two-sided 95% points: 2.228139 at 10 df, 2.042272 at 30 df; one-sided 99% at 5 df: 3.364930.
    expect(studentTQuantile(0.025, 10)).toBeCloseTo(-2.228139, 6);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.042272, 6);
    expect(studentTQuantile(0.01, 5)).toBeCloseTo(-3.36493, 5);
    expect(studentTQuantile(0.025, 1e6)).toBeCloseTo(-1.959966, 5);
  });

  it("refuses values that name no distribution or probability", () => {
    expect(() => studentTCdf(0, 0)).toThrow("Expected degrees of freedom > 0, got `0`");
    expect(() => studentTQuantile(1, 3)).toThrow("Expected a probability strictly between 0 and 1, got `1`");
  });
});
