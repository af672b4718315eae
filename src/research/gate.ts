import type { Experiment } from "./experiment.ts";
import type { Gate } from "./plan.ts";
import type { Hours, ResearchConfig } from "./research-config.ts";

/** Whether the loop may start runs now, why not, and the night the budgets count in. */
export interface GateState extends Gate {
  /** Why no new run may start; null when the gate is open. */
  reason: string | null;
  /** Start of the current (or last) research night. */
  night: Date;
}

const QUARTER = 15 * 60 * 1000;

function localHour(time: Date, timezone: string): number {
  return Number(new Intl.DateTimeFormat("en-US", { timeZone: timezone, hour: "numeric", hourCycle: "h23" }).format(time));
}

function inHours(time: Date, hours: Hours): boolean {
  const h = localHour(time, hours.timezone);
  return hours.start < hours.end ? h >= hours.start && h < hours.end : h >= hours.start || h < hours.end;
}

/**
 * The start of the research night that contains `now`, or of the last one when `now` is
 * outside the hours. Without hours a night is a UTC day. Every time zone offset is a
 * multiple of 15 minutes, so stepping by quarters from a quarter boundary finds the exact hour.
 */
export function nightStart(now: Date, hours: Hours | null): Date {
  if (hours === null) return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  let t = Math.floor(now.getTime() / QUARTER) * QUARTER;
  for (let i = 0; i < 96 && !inHours(new Date(t), hours); i++) t -= QUARTER;
  for (let i = 0; i < 96 && inHours(new Date(t - QUARTER), hours); i++) t -= QUARTER;
  return new Date(t);
}

/** The run name for branches: the night's local date, `YYYY-MM-DD`. */
export function runName(night: Date, hours: Hours | null): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: hours?.timezone ?? "UTC" }).format(night);
}

/**
 * Opens or closes the loop: a pause, the research hours and the nightly budgets of
 * experiments and LLM tokens.
 *
 * @param spentTokens - tokens of failed proposals this night (they have no experiment to carry them).
 */
export function gate(config: ResearchConfig, experiments: readonly Experiment[], now: Date, paused: string | null, spentTokens: number): GateState {
  const night = nightStart(now, config.hours);
  const tonight = experiments.filter((e) => e.kind === "experiment" && Date.parse(e.createdAt) >= night.getTime());
  const tokens = spentTokens + tonight.reduce((sum, e) => sum + e.tokens, 0);
  const experimentsLeft = Math.max(0, config.budget.experimentsPerNight - tonight.length);
  const { hours, budget } = config;
  const pad = (h: number) => `${String(h).padStart(2, "0")}:00`;
  const reason =
    paused ??
    (hours && !inHours(now, hours) ? `outside the research hours ${pad(hours.start)}-${pad(hours.end)} ${hours.timezone}` : null) ??
    (experimentsLeft === 0 ? `the budget of ${budget.experimentsPerNight} experiments per night is spent` : null) ??
    (tokens >= budget.tokensPerNight ? `the budget of ${budget.tokensPerNight} LLM tokens per night is spent (${tokens} used)` : null);
  return { open: reason === null, reason, experimentsLeft, night };
}
