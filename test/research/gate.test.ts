import { describe, expect, it } from "vitest";
import { gate, nightStart, runName } from "../../src/research/gate.ts";
import { DEFAULT_CONFIG, type ResearchConfig } from "../../src/research/research-config.ts";
import { experiment } from "./make-experiment.ts";

const paris = { start: 22, end: 7, timezone: "Europe/Paris" };
const at = (iso: string) => new Date(iso);

describe("nightStart", () => {
  it("is the UTC day without hours", () => {
    expect(nightStart(at("2025-01-15T23:30:00Z"), null).toISOString()).toBe("2025-01-15T00:00:00.000Z");
  });

  it("is the start of the research hours in their time zone, across DST and half-hour offsets", () => {
    // 00:30 in Paris (UTC+1 in winter): the night began at 22:00 Paris, 21:00 UTC, the day before.
    expect(nightStart(at("2025-01-15T23:30:00Z"), paris).toISOString()).toBe("2025-01-15T21:00:00.000Z");
    // 22:30 in Paris in summer (UTC+2).
    expect(nightStart(at("2025-07-15T20:30:00Z"), paris).toISOString()).toBe("2025-07-15T20:00:00.000Z");
    // 13:00 in Paris, outside the hours: the last night, which began the evening before.
    expect(nightStart(at("2025-01-15T12:00:00Z"), paris).toISOString()).toBe("2025-01-14T21:00:00.000Z");
    // 22:30 in Kolkata (UTC+5:30).
    expect(nightStart(at("2025-01-15T17:00:00Z"), { start: 22, end: 6, timezone: "Asia/Kolkata" }).toISOString()).toBe("2025-01-15T16:30:00.000Z");
    // Daytime hours that do not wrap midnight.
    expect(nightStart(at("2025-01-15T15:59:00Z"), { start: 9, end: 17, timezone: "UTC" }).toISOString()).toBe("2025-01-15T09:00:00.000Z");
  });

  it("names the run after the night's local date", () => {
    expect(runName(at("2025-01-15T23:30:00Z"), null)).toBe("2025-01-15");
    expect(runName(nightStart(at("2025-01-15T23:30:00Z"), paris), paris)).toBe("2025-01-15");
  });
});

describe("gate", () => {
  const config = (patch: Partial<ResearchConfig>): ResearchConfig => ({ ...DEFAULT_CONFIG, ...patch });
  const tonight = [experiment(1, { createdAt: "2025-01-15T21:30:00Z", tokens: 600 }), experiment(2, { createdAt: "2025-01-15T22:00:00Z", tokens: 300 })];
  const lastNight = [experiment(0, { createdAt: "2025-01-14T23:00:00Z", tokens: 10_000 })];
  const now = at("2025-01-15T23:30:00Z");

  it("is open within the hours and the budgets, counting tonight's experiments only", () => {
    const state = gate(config({ hours: paris, budget: { experimentsPerNight: 3, tokensPerNight: 1000 } }), [...lastNight, ...tonight], now, null, 0);
    expect(state).toEqual({ open: true, reason: null, experimentsLeft: 1, night: at("2025-01-15T21:00:00Z") });
  });

  it("says why it is closed: a pause, the hours, the experiment budget, the token budget", () => {
    const budget = { experimentsPerNight: 3, tokensPerNight: 1000 };
    expect(gate(config({ hours: paris }), [], now, "paused by @alice", 0).reason).toBe("paused by @alice");
    expect(gate(config({ hours: paris }), [], at("2025-01-15T12:00:00Z"), null, 0).reason).toBe("outside the research hours 22:00-07:00 Europe/Paris");
    expect(gate(config({ budget: { ...budget, experimentsPerNight: 2 } }), tonight, now, null, 0)).toMatchObject({
      open: false, experimentsLeft: 0, reason: "the budget of 2 experiments per night is spent",
    });
    expect(gate(config({ budget }), tonight, now, null, 100).reason).toBe("the budget of 1000 LLM tokens per night is spent (1000 used)");
  });
});
