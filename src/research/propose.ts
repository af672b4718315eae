import { AgentError, type Agent, type AgentReply, type AgentTask } from "./agent.ts";
import { checkProposal } from "./check-proposal.ts";
import type { Proposal } from "./proposal.ts";

/** A checked proposal ready to become an experiment, or why none could be made. */
export type ProposeResult =
  | { ok: true; proposal: Proposal; train: string; fingerprint: string; tokens: number; agent: string }
  | { ok: false; errors: string[]; tokens: number; agent: string };

/**
 * Asks the agent for the next experiment and checks it (only `train.ts`, edits apply, not a
 * duplicate, import guard, type-check). A refused proposal gets one repair round, with
 * the errors, before the attempt fails.
 *
 * @param root - project root to type-check against; omit to skip the type-check.
 */
export async function propose(agent: Agent, task: Omit<AgentTask, "repair">, root?: string): Promise<ProposeResult> {
  const earlier = new Map<string, string>();
  for (const entry of task.ledger) if (entry.fingerprint) earlier.set(entry.fingerprint, entry.title);

  let tokens = 0;
  const ask = async (repair?: AgentTask["repair"]): Promise<AgentReply | string> => {
    try {
      const reply = await agent.propose({ ...task, repair });
      tokens += reply.tokens;
      return reply;
    } catch (error) {
      if (!(error instanceof AgentError)) throw error;
      tokens += error.tokens;
      return error.message;
    }
  };

  const first = await ask();
  if (typeof first === "string") return { ok: false, errors: [first], tokens, agent: agent.name };
  const checked = checkProposal(first.proposal, { train: task.files["train.ts"], root, earlier });
  if (checked.ok) return { ...checked, proposal: first.proposal, tokens, agent: agent.name };

  const second = await ask({ reply: first.text, errors: checked.errors });
  if (typeof second === "string") return { ok: false, errors: [...checked.errors, second], tokens, agent: agent.name };
  const rechecked = checkProposal(second.proposal, { train: task.files["train.ts"], root, earlier });
  if (rechecked.ok) return { ...rechecked, proposal: second.proposal, tokens, agent: agent.name };
  return { ok: false, errors: [...checked.errors, ...rechecked.errors], tokens, agent: agent.name };
}
