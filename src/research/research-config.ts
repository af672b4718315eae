import type { PlanSettings } from "./plan.ts";

/** The research hours, in a time zone: `start` 22 and `end` 7 means 22:00 to 07:00. */
export interface Hours {
  start: number;
  end: number;
  timezone: string;
}

/** Everything `.github/autoresearch.yml` (or the local loop's flags) can set. */
export interface ResearchConfig {
  /** The research branch; null means the repository's default branch. */
  branch: string | null;
  concurrency: number;
  noise: Omit<PlanSettings, "concurrency">;
  agent: {
    /** `openai` for any OpenAI-compatible endpoint, `offline` for the seeded mutation agent. */
    provider: "openai" | "offline";
    /** Base URL of the endpoint; null means the one configured where the loop runs. */
    baseUrl: string | null;
    model: string;
    temperature: number;
    /** Seed of the offline agent. */
    seed: number;
    /** Per request, in seconds. */
    timeout: number;
    /** Retries of a failed or malformed reply. */
    retries: number;
  };
  budget: {
    experimentsPerNight: number;
    tokensPerNight: number;
  };
  /** Null: research around the clock, and a night is a UTC day. */
  hours: Hours | null;
  /** Extra labels for experiment pull requests. */
  labels: string[];
  /** Keep the branches of closed experiments (their commits stay reachable from the PR either way). */
  keepBranches: boolean;
}

/** The defaults, documented in the README. */
export const DEFAULT_CONFIG: ResearchConfig = {
  branch: null,
  concurrency: 1,
  // The judge's rule (docs/judge.md): the figures of `npm run bench:judge` are for these.
  noise: { baselineRuns: 4, maxRuns: 3, alpha: 0.08, futility: 1, confirmRuns: 2, minSigma: 0 },
  agent: { provider: "openai", baseUrl: null, model: "gpt-4.1", temperature: 0.7, seed: 1, timeout: 300, retries: 3 },
  budget: { experimentsPerNight: 100, tokensPerNight: 5_000_000 },
  hours: null,
  labels: [],
  keepBranches: false,
};

const DEFAULT_HOURS: Hours = { start: 22, end: 7, timezone: "UTC" };

type Field = { key: string; check: (v: unknown) => boolean; expected: string; set: (c: ResearchConfig, v: never) => void };

const isInt = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: unknown) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isNumber = (min: number, max: number) => (v: unknown) => typeof v === "number" && v >= min && v <= max;
const isString = (v: unknown) => typeof v === "string" && v.trim() !== "";
const isBool = (v: unknown) => typeof v === "boolean";
const isTimezone = (v: unknown) => {
  if (!isString(v)) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: v as string });
    return true;
  } catch {
    return false;
  }
};

const field = <T>(key: string, check: (v: unknown) => boolean, expected: string, set: (c: ResearchConfig, v: T) => void): Field =>
  ({ key, check, expected, set }) as Field;

const FIELDS: Field[] = [
  field<string>("branch", isString, "a branch name", (c, v) => (c.branch = v)),
  field<number>("concurrency", isInt(1, 64), "an integer from 1 to 64", (c, v) => (c.concurrency = v)),
  field<number>("noise.baseline-runs", isInt(2, 20), "an integer from 2 to 20", (c, v) => (c.noise.baselineRuns = v)),
  field<number>("noise.max-runs", isInt(1, 10), "an integer from 1 to 10", (c, v) => (c.noise.maxRuns = v)),
  field<number>("noise.alpha", isNumber(1e-6, 0.5), "a probability from 1e-6 to 0.5", (c, v) => (c.noise.alpha = v)),
  field<number>("noise.futility", isNumber(0, 10), "a number of standard errors from 0 to 10", (c, v) => (c.noise.futility = v)),
  field<number>("noise.confirm-runs", isInt(0, 10), "an integer from 0 to 10", (c, v) => (c.noise.confirmRuns = v)),
  field<number>("noise.min-sigma", isNumber(0, 1), "a number from 0 to 1", (c, v) => (c.noise.minSigma = v)),
  field<string>("agent.provider", (v) => v === "openai" || v === "offline", '"openai" or "offline"', (c, v) => (c.agent.provider = v as "openai")),
  field<string>("agent.base-url", (v) => isString(v) && /^https?:\/\/\S+$/.test(v as string), "an http(s) URL", (c, v) => (c.agent.baseUrl = v)),
  field<string>("agent.model", isString, "a model name", (c, v) => (c.agent.model = v)),
  field<number>("agent.temperature", isNumber(0, 2), "a number from 0 to 2", (c, v) => (c.agent.temperature = v)),
  field<number>("agent.seed", isInt(0), "an integer >= 0", (c, v) => (c.agent.seed = v)),
  field<number>("agent.timeout", isNumber(1, 3600), "a number of seconds from 1 to 3600", (c, v) => (c.agent.timeout = v)),
  field<number>("agent.retries", isInt(0, 10), "an integer from 0 to 10", (c, v) => (c.agent.retries = v)),
  field<number>("budget.experiments-per-night", isInt(0), "an integer >= 0", (c, v) => (c.budget.experimentsPerNight = v)),
  field<number>("budget.tokens-per-night", isInt(0), "an integer >= 0", (c, v) => (c.budget.tokensPerNight = v)),
  field<number>("hours.start", isInt(0, 23), "an hour from 0 to 23", (c, v) => ((c.hours ??= { ...DEFAULT_HOURS }).start = v)),
  field<number>("hours.end", isInt(0, 23), "an hour from 0 to 23", (c, v) => ((c.hours ??= { ...DEFAULT_HOURS }).end = v)),
  field<string>("hours.timezone", isTimezone, "an IANA time zone such as Europe/Paris", (c, v) => ((c.hours ??= { ...DEFAULT_HOURS }).timezone = v)),
  field<string[]>("labels", (v) => Array.isArray(v) && v.every(isString), "a list of label names", (c, v) => (c.labels = v)),
  field<boolean>("keep-branches", isBool, "true or false", (c, v) => (c.keepBranches = v)),
];

const SECTIONS = ["noise", "agent", "budget", "hours"];

const show = (value: unknown) => `\`${JSON.stringify(value)}\``;

/**
 * Validates a parsed config file (YAML keys in kebab-case) and fills in the defaults.
 * A bad value keeps its default and adds an error, so the loop can report every mistake
 * at once and still know its branch.
 */
export function parseResearchConfig(raw: unknown, file = ".github/autoresearch.yml"): { config: ResearchConfig; errors: string[] } {
  const config = structuredClone(DEFAULT_CONFIG);
  const errors: string[] = [];
  if (raw === null || raw === undefined) return { config, errors };
  if (typeof raw !== "object" || Array.isArray(raw)) return { config, errors: [`Expected ${file} to hold a mapping of keys, got ${show(raw)}`] };

  const flat = new Map<string, unknown>();
  for (const [key, value] of Object.entries(raw)) {
    if (SECTIONS.includes(key) && typeof value === "object" && value !== null && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value)) flat.set(`${key}.${inner}`, innerValue);
    } else flat.set(key, value);
  }
  for (const [key, value] of flat) {
    const known = FIELDS.find((f) => f.key === key);
    if (!known) {
      errors.push(`Expected only known keys in ${file}, got \`${key}\` (known: ${FIELDS.map((f) => `\`${f.key}\``).join(", ")})`);
    } else if (!known.check(value)) {
      errors.push(`Expected \`${key}\` to be ${known.expected}, got ${show(value)}`);
    } else {
      known.set(config, value as never);
    }
  }
  if (config.hours && config.hours.start === config.hours.end) {
    errors.push(`Expected \`hours.start\` and \`hours.end\` to differ, got \`${config.hours.start}\` for both`);
  }
  return { config, errors };
}
