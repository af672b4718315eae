import { describe, expect, it } from "vitest";
import * as E from "../../src/engine/index.ts";

describe("the op timer", () => {
  it("counts every op and every node's backward once, ops inside ops under the outer one", () => {
    const x = E.randn([1, 1, 32, 32]).requiresGrad_();
    E.startOpTimer("cpu");
    // attention's forward makes a contiguous copy of this view: counted as attention.
    const q = x.permute(0, 3, 1, 2);
    expect(q.isContiguous()).toBe(false);
    E.F.attention(q, q, q).tanh().sum().backward();
    const table = new Map(E.stopOpTimer());
    expect(table.get("attention")?.calls).toBe(1);
    expect(table.get("contiguous")).toBeUndefined();
    expect(table.get("tanh")?.calls).toBe(1);
    expect(table.get("attention backward")?.calls).toBe(1);
    expect(table.get("tanh backward")?.calls).toBe(1);
    for (const [, t] of table) expect(t.ms).toBeGreaterThanOrEqual(0);
    E.resetArena();
  });

  it("records nothing once stopped", () => {
    E.startOpTimer("cpu");
    E.stopOpTimer();
    E.ones([4]).add(1);
    expect(E.stopOpTimer()).toEqual([]);
  });
});
