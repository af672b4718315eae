import type { LedgerEntry } from "./ledger.ts";
import type { Proposal } from "./proposal.ts";

/** The files an agent reads, at the head of the research branch (the engine reference comes with the harness). */
export interface ResearchFiles {
  "program.md": string;
  "prepare.ts": string;
  "train.ts": string;
}

/** The paths of {@link ResearchFiles}, in prompt order. */
export const RESEARCH_FILES = ["program.md", "prepare.ts", "train.ts"] as const;

/** What an agent is asked: propose the next experiment. */
export interface AgentTask {
  files: ResearchFiles;
  /** Past experiments, oldest first. */
  ledger: readonly LedgerEntry[];
  /** The one repair round: the previous reply and why it was refused. */
  repair?: { reply: string; errors: readonly string[] };
}

/** An agent's proposal, the reply text it came from and the LLM tokens it cost. */
export interface AgentReply {
  proposal: Proposal;
  text: string;
  tokens: number;
}

/** Something that proposes experiments: an LLM, or the offline mutation agent. */
export interface Agent {
  /** A short name for logs and PR bodies, e.g. `openai:gpt-4.1` or `mutation:seed=1`. */
  readonly name: string;
  propose(task: AgentTask): Promise<AgentReply>;
}

/** An agent that gave up after its retries; `tokens` counts what the failed tries cost. */
export class AgentError extends Error {
  override name = "AgentError";
  constructor(
    message: string,
    readonly tokens: number,
  ) {
    super(message);
  }
}
