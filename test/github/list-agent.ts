import type { Agent, AgentTask } from "../../src/research/agent.ts";
import { formatReply } from "../../src/research/format-reply.ts";
import type { Proposal } from "../../src/research/proposal.ts";
import { FIXTURE_ROOT, researchFiles } from "../research/fixtures.ts";
import { AppHarness, type RunOutcome } from "./app-harness.ts";
import { waiting } from "./scripted-runner.ts";

/** An agent that proposes one edit of a `const` line per call, from a list, then edits of SCALAR_LR. */
export class ListAgent implements Agent {
  readonly name = "list";
  readonly tasks: AgentTask[] = [];
  constructor(readonly edits: Array<[string, string]>) {}
  async propose(task: AgentTask) {
    this.tasks.push(task);
    const [search, replace] = this.edits[this.tasks.length - 1] ?? [`const SCALAR_LR = 0.5;`, `const SCALAR_LR = 0.${this.tasks.length};`];
    const proposal: Proposal = { title: `Try ${replace}`, hypothesis: `Because ${replace}.`, edits: [{ file: "train.ts", search, replace }] };
    return { proposal, text: formatReply(proposal), tokens: 10 };
  }
}

export const MATRIX: [string, string] = ["const MATRIX_LR = 0.04;", "const MATRIX_LR = 0.05;"];
export const DEPTH: [string, string] = ["const DEPTH = 8;", "const DEPTH = 9;"];

/** Two baselines, and a judge that decides on one run: no confirmation runs, a lenient test, re-runs while the delta is a gain. */
export const QUICK_NOISE = "noise:\n  baseline-runs: 2\n  confirm-runs: 0\n  alpha: 0.3\n  futility: 0\n";

/** A new repository with `config`, whose app proposes MATRIX then DEPTH (then SCALAR_LR edits). */
export function startApp(config: string, agent: Agent = new ListAgent([MATRIX, DEPTH])): AppHarness {
  return new AppHarness({ ...researchFiles(), ".github/autoresearch.yml": config }, () => agent, { root: FIXTURE_ROOT });
}

/** Finishes the waiting runs with the values given in order (baselines included). */
export async function finishWaiting(h: AppHarness, ...outcomes: RunOutcome[]): Promise<void> {
  for (const outcome of outcomes) await h.finish(waiting(h)[0]!.number, outcome);
}

/** Starts the app and measures two baselines of the head (val_bpb 1.0 and 1.002). */
export async function measuredApp(config: string, agent?: Agent): Promise<AppHarness> {
  const h = startApp(config, agent);
  await h.research.tick();
  await finishWaiting(h, { val_bpb: 1.0 }, { val_bpb: 1.002 });
  return h;
}
