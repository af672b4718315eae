import type { AgentTask } from "./agent.ts";
import { ENGINE_REFERENCE_PATH, engineReference } from "./engine-reference.ts";
import type { LedgerEntry } from "./ledger.ts";

/** One chat message, as OpenAI-compatible endpoints take them. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

const LEDGER_ROWS = 200;
const clip = (text: string, n: number) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
};
const cell = (text: string) => text.replace(/\|/g, "\\|");
const signed = (x: number) => (x > 0 ? "+" : "") + x.toFixed(6);

/** The ledger as a Markdown table: what was tried, what it did, why it crashed. */
export function renderLedger(ledger: readonly LedgerEntry[]): string {
  if (ledger.length === 0) return "No experiments yet: the first proposals run against the baseline.";
  const rows = ledger.slice(-LEDGER_ROWS).map((e) => {
    const value = e.valBpb === null ? "" : e.valBpb.toFixed(6);
    const delta = e.delta === null ? "" : signed(e.delta);
    const note = e.crash ? clip(e.crash, 200) : "";
    return `| ${e.n} | ${cell(clip(e.title, 100))} | ${cell(clip(e.hypothesis, 240))} | ${value} | ${delta} | ${e.outcome} | ${cell(note)} |`;
  });
  const skipped = ledger.length - rows.length;
  return [
    ...(skipped > 0 ? [`(${skipped} older experiments not shown.)`, ""] : []),
    "| n | title | hypothesis | val_bpb | delta | outcome | crash |",
    "|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/**
 * The conversation for one proposal: `program.md` verbatim as the system message, then the
 * engine reference (what train.ts can call; the operator's README is not the agent's business),
 * prepare.ts, the current train.ts and the ledger; in a repair round, the refused reply and the
 * errors follow. `fixed` names train.ts consts that the run's profile sets itself (a small CPU
 * profile), so that the agent does not spend experiments on them.
 */
export function buildPrompt(task: AgentTask, fixed: readonly string[] = []): ChatMessage[] {
  const { files } = task;
  const pinned = fixed.length
    ? [`These runs use a small profile that sets ${fixed.map((n) => `\`${n}\``).join(", ")} in train.ts itself: a change to them measures nothing, so leave them alone.`]
    : [];
  const user = [
    "Here is the repository as it stands at the head of the research branch.",
    `## ${ENGINE_REFERENCE_PATH} (the engine train.ts runs on: every name it offers)\n\n${engineReference()}`,
    `## prepare.ts (fixed: read it, never edit it)\n\n\`\`\`ts\n${files["prepare.ts"]}\n\`\`\``,
    `## train.ts (the one file you edit)\n\n\`\`\`ts\n${files["train.ts"]}\n\`\`\``,
    ...pinned,
    `## Ledger of past experiments (delta is val_bpb minus the parent's; negative is better)\n\n${renderLedger(task.ledger)}`,
    "Propose the next experiment. Reply in exactly the format that program.md prescribes.",
  ].join("\n\n");
  const messages: ChatMessage[] = [
    { role: "system", content: files["program.md"] },
    { role: "user", content: user },
  ];
  if (task.repair) {
    messages.push(
      { role: "assistant", content: task.repair.reply },
      {
        role: "user",
        content: `That proposal was refused:\n\n${task.repair.errors.map((e) => `- ${e}`).join("\n")}\n\nFix it (or propose something else) and reply again in the same format.`,
      },
    );
  }
  return messages;
}
