import type { Proposal } from "./proposal.ts";

/**
 * Writes a proposal in the reply format of `program.md`, the inverse of `parseReply`; an edit
 * with an empty search text (a whole new file) is written as the file in a code block.
 */
export function formatReply(proposal: Proposal): string {
  const edits = proposal.edits.map((e) =>
    e.search === "" ? `EDIT ${e.file}\n\`\`\`ts\n${e.replace}\n\`\`\`` : `EDIT ${e.file}\n<<<<<<< SEARCH\n${e.search}\n=======\n${e.replace}\n>>>>>>> REPLACE`,
  );
  return [`TITLE: ${proposal.title}`, "HYPOTHESIS:", proposal.hypothesis, ...edits].join("\n") + "\n";
}
