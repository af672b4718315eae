import type { Proposal } from "./proposal.ts";

/** Writes a proposal in the reply format of `program.md`, the inverse of `parseReply`. */
export function formatReply(proposal: Proposal): string {
  const edits = proposal.edits.map((e) => `EDIT ${e.file}\n<<<<<<< SEARCH\n${e.search}\n=======\n${e.replace}\n>>>>>>> REPLACE`);
  return [`TITLE: ${proposal.title}`, "HYPOTHESIS:", proposal.hypothesis, ...edits].join("\n") + "\n";
}
