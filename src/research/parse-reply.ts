import type { Edit, Proposal } from "./proposal.ts";

/** A reply that does not follow the format `program.md` prescribes. */
export class ReplyFormatError extends Error {
  override name = "ReplyFormatError";
}

const SEARCH = /^<{5,9} ?SEARCH\s*$/;
const DIVIDER = /^={5,9}\s*$/;
const REPLACE = /^>{5,9} ?REPLACE\s*$/;
const FENCE = /^\s*(```|~~~)/;

/**
 * Parses an agent's reply: a `TITLE:` line, a `HYPOTHESIS:` section, then one or more
 * `EDIT <file>` headers, each followed by a SEARCH/REPLACE block. Code fences around
 * the blocks are tolerated; the text inside a block is kept byte for byte.
 *
 * @throws ReplyFormatError naming what is missing.
 */
export function parseReply(reply: string): Proposal {
  const lines = reply.replace(/\r\n/g, "\n").split("\n");
  let title = "";
  const hypothesis: string[] = [];
  const edits: Edit[] = [];
  let section: "preamble" | "hypothesis" | "edits" = "preamble";
  let file: string | null = null;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const titleMatch = /^\s*\**TITLE\**\s*:\s*\**\s*(.*)$/i.exec(line);
    const hypothesisMatch = /^\s*\**HYPOTHESIS\**\s*:\s*\**\s*(.*)$/i.exec(line);
    const editMatch = /^\s*\**EDIT\**\s*:?\s*\**\s+`?([^\s`*]+)`?\s*$/i.exec(line);
    if (section !== "edits" && titleMatch && !title) {
      title = titleMatch[1]!.trim();
    } else if (section === "preamble" && hypothesisMatch) {
      section = "hypothesis";
      hypothesis.push(hypothesisMatch[1]!);
    } else if (editMatch) {
      section = "edits";
      file = editMatch[1]!;
    } else if (SEARCH.test(line)) {
      if (file === null) throw new ReplyFormatError(`Expected an \`EDIT <file>\` line before the SEARCH block on line ${i + 1}`);
      const search: string[] = [];
      const replace: string[] = [];
      let target = search;
      let closed = false;
      for (i++; i < lines.length; i++) {
        const inner = lines[i]!;
        if (target === search && DIVIDER.test(inner)) target = replace;
        else if (target === replace && REPLACE.test(inner)) {
          closed = true;
          break;
        } else target.push(inner);
      }
      if (!closed) throw new ReplyFormatError(`Expected the SEARCH block of the edit to \`${file}\` to end with \`>>>>>>> REPLACE\``);
      if (search.join("").trim() === "") throw new ReplyFormatError(`Expected a non-empty SEARCH text in the edit to \`${file}\``);
      edits.push({ file, search: search.join("\n"), replace: replace.join("\n") });
    } else if (section === "hypothesis" && !FENCE.test(line)) {
      hypothesis.push(line);
    }
  }

  if (!title) throw new ReplyFormatError("Expected a `TITLE: <one line>` line, got none");
  const text = hypothesis.join("\n").trim();
  if (!text) throw new ReplyFormatError("Expected a `HYPOTHESIS:` section with text, got none");
  if (edits.length === 0) throw new ReplyFormatError("Expected at least one `EDIT train.ts` block with SEARCH/REPLACE, got none");
  return { title: title.slice(0, 120), hypothesis: text, edits };
}
