import { parseArgs } from "node:util";
import type { BudgetClockKind } from "./budget-reading.ts";

/** Where a profile's data comes from unless a directory or mirror is given. */
export type ProfileSource =
  | { kind: "climbmix"; trainShards: number }
  | { kind: "synthetic"; trainShards: number; shardBytes: number; seed: number };

/** The fixed constants an experiment is run and judged with. */
export interface Profile {
  name: string;
  /** Context length, and the row length the metric is computed at. */
  MAX_SEQ_LEN: number;
  /** Training time budget in seconds. */
  TIME_BUDGET: number;
  /** Validation tokens the metric is computed over. */
  EVAL_TOKENS: number;
  /** Tokenizer vocabulary, special tokens included. */
  VOCAB_SIZE: number;
  source: ProfileSource;
  /** What the time budget counts: the reference's wall clock on the GPU, CPU time on a shared CPU. */
  budgetClock: BudgetClockKind;
}

/** The reference setup (an H100 trains it in 5 minutes). */
const DEFAULT: Profile = {
  name: "default",
  MAX_SEQ_LEN: 2048,
  TIME_BUDGET: 300,
  EVAL_TOKENS: 40 * 524288,
  VOCAB_SIZE: 8192,
  source: { kind: "climbmix", trainShards: 10 },
  budgetClock: "wall",
};

/**
 * The named profiles. `cpu` is for the local loop on a laptop: a ~1M-parameter model sees
 * about a million tokens in a minute, and 65,536 evaluation tokens take a few seconds.
 * `test` is the smallest setup that still exercises every part, for tests.
 * Both use the built-in synthetic corpus, so they need no network, and count CPU time as their
 * budget, so that other work on a laptop does not decide how much a run trains.
 */
export const PROFILES: Readonly<Record<string, Profile>> = {
  default: DEFAULT,
  cpu: {
    name: "cpu",
    MAX_SEQ_LEN: 256,
    TIME_BUDGET: 60,
    EVAL_TOKENS: 65536,
    VOCAB_SIZE: 2048,
    source: { kind: "synthetic", trainShards: 6, shardBytes: 1_000_000, seed: 1 },
    budgetClock: "cpu",
  },
  test: {
    name: "test",
    MAX_SEQ_LEN: 64,
    TIME_BUDGET: 5,
    EVAL_TOKENS: 4096,
    VOCAB_SIZE: 512,
    source: { kind: "synthetic", trainShards: 2, shardBytes: 100_000, seed: 2 },
    budgetClock: "cpu",
  },
};

/** The value of `--name VALUE` or `--name=VALUE` in `argv`, ignoring every other argument. */
export function readFlag(argv: readonly string[], name: string): string | undefined {
  const { values } = parseArgs({ args: [...argv], options: { [name]: { type: "string" } }, strict: false, allowPositionals: true });
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * The active profile: `--profile NAME` in `argv`, else `AUTORESEARCH_PROFILE`, else `default`.
 * @throws for an unknown name, listing the valid ones.
 */
export function selectProfile(argv: readonly string[], env: NodeJS.ProcessEnv): Profile {
  const name = readFlag(argv, "profile") ?? env.AUTORESEARCH_PROFILE ?? "default";
  const profile = Object.hasOwn(PROFILES, name) ? PROFILES[name] : undefined;
  if (!profile) {
    const valid = Object.keys(PROFILES).map((n) => `\`${n}\``).join(", ");
    throw new Error(`Expected the profile to be one of ${valid}, got \`${name}\``);
  }
  return profile;
}

/** One line naming every constant that `profile` changes from the default, or undefined for the default. */
export function describeOverrides(profile: Profile): string | undefined {
  if (profile === DEFAULT) return undefined;
  const keys = ["MAX_SEQ_LEN", "TIME_BUDGET", "EVAL_TOKENS", "VOCAB_SIZE"] as const;
  const changes = keys.filter((key) => profile[key] !== DEFAULT[key]).map((key) => `${key}=${profile[key]} (default ${DEFAULT[key]})`);
  if (profile.source.kind !== DEFAULT.source.kind) changes.push(`data=${profile.source.kind} (default ${DEFAULT.source.kind})`);
  return `profile ${profile.name}: ${changes.join(", ")}`;
}
