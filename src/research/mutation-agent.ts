import { SeededRandom } from "../data/seeded-random.ts";
import { EDITABLE_FILE } from "../runner/guards/diff.ts";
import { AgentError, type Agent, type AgentReply, type AgentTask } from "./agent.ts";
import { applyEdits } from "./apply-edits.ts";
import { fingerprint } from "./fingerprint.ts";
import { formatReply } from "./format-reply.ts";
import type { Proposal } from "./proposal.ts";
import { readHyperparameters, type Hyperparameter } from "../runner/read-hyperparameters.ts";

const FACTORS = [0.5, 0.7, 0.8, 1.25, 1.4, 2];
const DRAWS = 1000;

/** Rounds to 3 significant digits and prints the shortest form (`0.05`, `1e-10`). */
const short = (x: number) => String(Number(x.toPrecision(3)));

const isPowerOfTwo = (x: number) => Number.isInteger(x) && x > 0 && (x & (x - 1)) === 0;

/** A new initializer for the hyperparameter, or null when this draw cannot change it. */
function mutate(p: Hyperparameter, random: SeededRandom): { text: string; how: string } | null {
  const factor = random.pick(FACTORS);
  switch (p.kind) {
    case "number": {
      const x = p.value as number;
      // Fractions of the run (warmup, warmdown, final LR) stay in [0, 1]; zero moves by a step.
      if (/RATIO|FRAC/.test(p.name) && x >= 0 && x <= 1) {
        const next = x === 0 ? random.pick([0.05, 0.1]) : Math.min(1, Number(short(x * factor)));
        return next === x ? null : { text: String(next), how: `set from ${x}` };
      }
      if (Number.isInteger(x) && x >= 1 && !/LR|DECAY|BETA|EPS|SCALE/.test(p.name)) {
        if (isPowerOfTwo(x) && x >= 2 && /BATCH|SIZE|LEN|DIM|TOKENS/.test(p.name)) {
          const next = random.chance(0.5) ? x * 2 : x / 2;
          return { text: String(next), how: next > x ? "doubled" : "halved" };
        }
        const next = x < 16 ? x + random.pick([-2, -1, 1, 2]) : Math.round(x * factor);
        return next >= 1 && next !== x ? { text: String(next), how: next > x ? "raised" : "lowered" } : null;
      }
      return x === 0 ? null : { text: short(x * factor), how: `scaled by ${factor}` };
    }
    case "power": {
      const [base, exponent] = p.value as number[];
      const next = exponent! + random.pick([-1, 1]);
      return { text: `${base} ** ${next}`, how: `exponent ${next > exponent! ? "raised" : "lowered"} by 1` };
    }
    case "numbers": {
      const values = [...(p.value as number[])];
      const i = random.int(values.length);
      const x = values[i]!;
      // Betas live just under 1: scale the distance to 1 rather than the value.
      values[i] = x > 0 && x < 1 ? Number((1 - (1 - x) * factor).toPrecision(4)) : Number(short(x * factor));
      if (values[i] === x || values[i]! >= 1) return null;
      return { text: `[${values.join(", ")}]`, how: `element ${i} set from ${x} to ${values[i]}` };
    }
    case "string": {
      const letters = [...new Set(p.value as string)];
      if (letters.length < 2) return null;
      const chars = [...(p.value as string)];
      const i = random.int(chars.length);
      chars[i] = random.pick(letters.filter((c) => c !== chars[i]));
      return { text: JSON.stringify(chars.join("")), how: `character ${i} flipped` };
    }
  }
}

/**
 * The offline agent: changes one hyperparameter of the `const` block of `train.ts` at a
 * time (scaled, stepped, doubled or flipped), or two once single changes run dry,
 * deterministically from its seed and the number of past experiments, and never repeats
 * an earlier change.
 */
export class MutationAgent implements Agent {
  readonly name: string;

  /** @param fixed - consts it leaves alone: those a small profile sets, where a change would measure nothing. */
  constructor(
    readonly seed = 1,
    readonly fixed: readonly string[] = [],
  ) {
    this.name = `mutation:seed=${seed}`;
  }

  async propose(task: AgentTask): Promise<AgentReply> {
    const train = task.files["train.ts"];
    const parameters = readHyperparameters(train).filter((p) => !this.fixed.includes(p.name));
    if (parameters.length === 0) {
      throw new AgentError("Expected train.ts to have `const NAME = literal` hyperparameters to mutate, got none", 0);
    }
    const used = new Set(task.ledger.map((e) => e.fingerprint));
    const random = new SeededRandom(this.seed * 1_000_003 + task.ledger.length * 2 + (task.repair ? 1 : 0));
    for (let draw = 0; draw < DRAWS; draw++) {
      // Single changes first; once they run dry on this head, pairs of changes.
      const picked = new Set(Array.from({ length: draw < DRAWS / 2 ? 1 : 2 }, () => random.pick(parameters)));
      const changes = [...picked].map((p) => ({ p, change: mutate(p, random) }));
      if (changes.some((c) => c.change === null)) continue;
      const described = changes.map(({ p, change }) => ({ p, change: change!, before: p.statement.slice(p.initializer.start, p.initializer.end) }));
      const edits = described.map(({ p, change }) => ({
        file: EDITABLE_FILE,
        search: p.statement,
        replace: p.statement.slice(0, p.initializer.start) + change.text + p.statement.slice(p.initializer.end),
      }));
      if (used.has(fingerprint(train, applyEdits({ [EDITABLE_FILE]: train }, edits)[EDITABLE_FILE]!))) continue;
      const proposal: Proposal = {
        title: described.map(({ p, change, before }) => `Set ${p.name} to ${change.text} (was ${before})`).join(" and "),
        hypothesis:
          described.map(({ p, change, before }) => `${p.name} ${change.how}: ${before} -> ${change.text}.`).join(" ") +
          ` A different setting may reach a lower val_bpb within the fixed time budget. (Offline mutation agent, seed ${this.seed}, draw ${draw}.)`,
        edits,
      };
      return { proposal, text: formatReply(proposal), tokens: 0 };
    }
    throw new AgentError(`Expected a new mutation within ${DRAWS} draws, got only earlier ones`, 0);
  }
}
