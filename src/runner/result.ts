import type { RunSummary } from "../data/run-report.ts";

/** How a run ended: trained and evaluated, crashed, ran past its budget, or refused by a guard. */
export type ResultStatus = "ok" | "crash" | "timeout" | "rejected";

/**
 * `result.json`: what one run of `train.ts` measured. The runner writes it; the GitHub
 * App and the local loop read it. `val_bpb` comes from the trusted evaluator only.
 */
export interface Result extends Omit<RunSummary, "val_bpb" | "depth" | "loss_curve"> {
  version: 1;
  status: ResultStatus;
  /** Validation bits per byte from the trusted evaluator; null unless `status` is `ok`. */
  val_bpb: number | null;
  /** What `train.ts` printed; informational, never judged. */
  reported_val_bpb: number | null;
  /** Null when the run stopped before train.ts reported it. */
  depth: number | null;
  /** The size profile the run used (`h100`, `cpu`, ...). */
  profile: string;
  seed: number;
  base_sha: string;
  head_sha: string;
  /** The end of the log when the run crashed. */
  crash_excerpt: string | null;
  /** Why the run was rejected or timed out. */
  reason: string | null;
  /** `[step, loss]` pairs, in step order. */
  loss_curve: Array<[number, number]>;
  /**
   * What the reader must know about how the run was made, e.g. that it trained without the
   * sandbox. The runner always writes it; results written before it existed have none.
   */
  warnings?: string[];
  /**
   * The share of the training's wall time the run got under the CPU budget clock: CPU time /
   * (wall time x threads). Low when other work took the CPUs. Null under the wall clock;
   * results written before it existed have none (nor `budget_clock`).
   */
  cpu_share?: number | null;
}

/** The commit trailer that carries the seed of a run: `Autoresearch-Seed: 43`. */
export const SEED_TRAILER = "Autoresearch-Seed";

/** The seed a run uses when the head commit carries no seed trailer (the reference's). */
export const DEFAULT_SEED = 42;

/** Reads the seed from the `Autoresearch-Seed` trailer of a commit message. */
export function seedFromCommitMessage(message: string): number {
  const match = new RegExp(`^${SEED_TRAILER}:\\s*(\\d+)\\s*$`, "mi").exec(message);
  return match ? Number(match[1]) : DEFAULT_SEED;
}

const STATUSES: readonly ResultStatus[] = ["ok", "crash", "timeout", "rejected"];

type Check = (value: unknown) => boolean;
const finite: Check = (v) => typeof v === "number" && Number.isFinite(v);
const nonNegative: Check = (v) => finite(v) && (v as number) >= 0;
const integer: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const text: Check = (v) => typeof v === "string";
const nullOr = (check: Check): Check => (v) => v === null || check(v);
const point: Check = (v) => Array.isArray(v) && v.length === 2 && integer(v[0]) && finite(v[1]);

const FIELDS: Record<keyof Result, [Check, string]> = {
  version: [(v) => v === 1, "`1`"],
  status: [(v) => STATUSES.includes(v as ResultStatus), STATUSES.map((s) => `\`"${s}"\``).join(", ")],
  val_bpb: [nullOr((v) => finite(v) && (v as number) > 0), "a positive number or null"],
  reported_val_bpb: [nullOr(finite), "a finite number or null"],
  training_seconds: [nonNegative, "a number >= 0"],
  total_seconds: [nonNegative, "a number >= 0"],
  peak_vram_mb: [nonNegative, "a number >= 0"],
  mfu_percent: [nullOr(nonNegative), "a number >= 0 or null"],
  total_tokens_M: [nonNegative, "a number >= 0"],
  num_steps: [integer, "an integer >= 0"],
  num_params_M: [nonNegative, "a number >= 0"],
  depth: [nullOr(integer), "an integer >= 0 or null"],
  profile: [(v) => text(v) && v !== "", "a non-empty string"],
  seed: [integer, "an integer >= 0"],
  base_sha: [(v) => text(v) && v !== "", "a commit sha"],
  head_sha: [(v) => text(v) && v !== "", "a commit sha"],
  crash_excerpt: [nullOr(text), "a string or null"],
  reason: [nullOr(text), "a string or null"],
  loss_curve: [(v) => Array.isArray(v) && v.every(point), "an array of [step, loss] pairs"],
  warnings: [(v) => v === undefined || (Array.isArray(v) && v.every(text)), "an array of strings"],
  budget_clock: [(v) => v === undefined || v === "wall" || v === "cpu", '`"wall"` or `"cpu"`'],
  cpu_share: [(v) => v === undefined || nullOr(nonNegative)(v), "a number >= 0 or null"],
};

const show = (value: unknown) => `\`${JSON.stringify(value)?.slice(0, 80) ?? String(value)}\``;

/**
 * Validates `result.json`, given as text or as parsed JSON.
 *
 * @throws an Error that names the first bad field, the expected value and the one it got.
 */
export function parseResult(input: unknown): Result {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new Error(`Expected result.json to be JSON, got ${show(input)}: ${(error as Error).message}`);
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`Expected result.json to be an object, got ${show(value)}`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(key in FIELDS)) throw new Error(`Expected result.json to have only the version 1 keys, got \`${key}\``);
  }
  for (const [key, [check, expected]] of Object.entries(FIELDS)) {
    if (!check(record[key])) throw new Error(`Expected \`${key}\` to be ${expected}, got ${show(record[key])}`);
  }
  const result = record as unknown as Result;
  if (result.status === "ok" && result.val_bpb === null) {
    throw new Error("Expected `val_bpb` to be a number when `status` is `\"ok\"`, got `null`");
  }
  if (result.status !== "ok" && result.val_bpb !== null) {
    throw new Error(`Expected \`val_bpb\` to be null when \`status\` is \`"${result.status}"\`, got ${show(result.val_bpb)}`);
  }
  if ((result.status === "rejected" || result.status === "timeout") && result.reason === null) {
    throw new Error(`Expected \`reason\` to say why the run was ${result.status === "rejected" ? "rejected" : "stopped"}, got \`null\``);
  }
  return result;
}
