import { EDITABLE_FILE } from "../runner/guards/diff.ts";
import type { Edit, Proposal } from "./proposal.ts";

/** A reply that does not follow the format `program.md` prescribes. */
export class ReplyFormatError extends Error {
  override name = "ReplyFormatError";
}

const SEARCH = /^\s*<{5,9} ?SEARCH\s*$/;
const DIVIDER = /^\s*={5,9}\s*$/;
const REPLACE = /^\s*>{5,9} ?REPLACE\s*$/;
const FENCE = /^\s*(```|~~~)/;
const FENCE_OPEN = /^\s*(```|~~~)\s*([\w+-]*)/;
// Keywords as models write them: `TITLE:`, `**Title:**`, `## Title: ...`.
const keyword = (name: string) => new RegExp(`^\\s*#*\\s*\\**${name}\\**\\s*:\\s*\\**\\s*(.*?)\\s*\\**\\s*$`, "i");
const TITLE = keyword("TITLE");
const HYPOTHESIS = keyword("HYPOTHESIS");
const EDIT_HEADER = /^\s*#*\s*\**(?:EDIT|FILE)\**\s*:?\s*\**\s+`?([^\s`*]+?)`?\s*:?\s*\**\s*$/i;
// A path alone on its line, right before a fence or a SEARCH marker (aider's style).
const BARE_PATH = /^\s*[`*]*([\w./-]+\.(?:ts|js|py|md|json|yml|yaml))[`*]*:?\s*$/;

/** A fenced code block outside any SEARCH/REPLACE block. */
interface CodeBlock {
  lang: string;
  body: string[];
  /** The file an `EDIT <file>` header before it named, if any. */
  file: string | null;
}

/** True for the text of a whole `train.ts`: it imports both the engine and prepare.ts. */
function isWholeTrainFile(lines: readonly string[]): boolean {
  const text = lines.join("\n");
  return /from\s+["']\.\/src\/engine(?:\/index\.[jt]s)?["']/.test(text) && /from\s+["']\.\/prepare(?:\.[jt]s)?["']/.test(text);
}

/** The lines of a block part without a code fence wrapped around them. */
function unfenced(lines: string[]): string[] {
  const n = lines.length;
  if (n >= 2 && FENCE.test(lines[0]!) && /^\s*(```|~~~)\s*$/.test(lines[n - 1]!)) return lines.slice(1, -1);
  return lines;
}

/**
 * Edits from a unified diff (```diff): each hunk's context and `-` lines are its SEARCH text,
 * its context and `+` lines its REPLACE text. Line numbers in `@@` headers are ignored, as
 * models rarely get them right.
 */
function editsFromDiff(body: readonly string[], file: string | null): Edit[] {
  const edits: Edit[] = [];
  let target = file ?? EDITABLE_FILE;
  let hunk: { search: string[]; replace: string[] } | null = null;
  const close = () => {
    if (hunk && hunk.search.some((l) => l.trim() !== "")) edits.push({ file: target, search: hunk.search.join("\n"), replace: hunk.replace.join("\n") });
    hunk = null;
  };
  for (const line of body) {
    if (line.startsWith("+++ ")) {
      close();
      target = line.slice(4).trim().replace(/^b\//, "") || target;
    } else if (line.startsWith("--- ") || line.startsWith("diff ") || line.startsWith("index ")) close();
    else if (line.startsWith("@@")) {
      close();
      hunk = { search: [], replace: [] };
    } else if (hunk && !line.startsWith("\\")) {
      const text = line.slice(1);
      // Models often drop the space that marks an empty context line.
      if (line.startsWith("-")) hunk.search.push(text);
      else if (line.startsWith("+")) hunk.replace.push(text);
      else {
        hunk.search.push(line === "" ? "" : text);
        hunk.replace.push(line === "" ? "" : text);
      }
    }
  }
  close();
  return edits;
}

/**
 * Parses an agent's reply: a `TITLE:` line, a `HYPOTHESIS:` section, then one or more
 * `EDIT <file>` headers, each followed by a SEARCH/REPLACE block. It also reads what models
 * write instead: headings and emphasis on the keywords, code fences around the blocks or
 * inside them, blocks without an `EDIT` line (the one editable file is meant), a unified diff
 * in a ```diff fence, and a whole new `train.ts` in one code block (an edit with an empty
 * SEARCH text). The text inside a block is kept byte for byte.
 *
 * @throws ReplyFormatError naming what is missing.
 */
export function parseReply(reply: string): Proposal {
  const lines = reply.replace(/\r\n?/g, "\n").split("\n");
  let title = "";
  const hypothesis: string[] = [];
  const edits: Edit[] = [];
  const blocks: CodeBlock[] = [];
  let section: "preamble" | "hypothesis" | "edits" = "preamble";
  let file: string | null = null;
  // Set at a fence around SEARCH blocks, so that its closing fence is not read as an opening one.
  let openFence = false;
  const nextLine = (i: number) => lines.slice(i + 1).find((l) => l.trim() !== "") ?? "";

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const titleMatch = TITLE.exec(line);
    const hypothesisMatch = HYPOTHESIS.exec(line);
    const editMatch = EDIT_HEADER.exec(line) ?? (FENCE.test(nextLine(i)) || SEARCH.test(nextLine(i)) ? BARE_PATH.exec(line) : null);
    if (section !== "edits" && titleMatch && !title) {
      title = titleMatch[1]!.trim();
    } else if (section === "preamble" && hypothesisMatch) {
      section = "hypothesis";
      hypothesis.push(hypothesisMatch[1]!);
    } else if (editMatch) {
      section = "edits";
      file = editMatch[1]!;
    } else if (SEARCH.test(line)) {
      const target = file ?? EDITABLE_FILE;
      const search: string[] = [];
      const replace: string[] = [];
      let part = search;
      let closed = false;
      for (i++; i < lines.length; i++) {
        const inner = lines[i]!;
        if (part === search && DIVIDER.test(inner)) part = replace;
        else if (part === replace && REPLACE.test(inner)) {
          closed = true;
          break;
        } else part.push(inner);
      }
      if (!closed) throw new ReplyFormatError(`Expected the SEARCH block of the edit to \`${target}\` to end with \`>>>>>>> REPLACE\``);
      const searchText = unfenced(search).join("\n");
      if (searchText.trim() === "") throw new ReplyFormatError(`Expected a non-empty SEARCH text in the edit to \`${target}\``);
      edits.push({ file: target, search: searchText, replace: unfenced(replace).join("\n") });
      section = "edits";
    } else if (openFence && /^\s*(```|~~~)\s*$/.test(line)) {
      openFence = false;
    } else if (FENCE_OPEN.test(line)) {
      // A code block: skip its fence lines when SEARCH blocks are inside, else keep it whole.
      const end = lines.findIndex((l, j) => j > i && /^\s*(```|~~~)\s*$/.test(l));
      const body = lines.slice(i + 1, end < 0 ? lines.length : end);
      if (body.some((l) => SEARCH.test(l))) {
        openFence = true;
        continue;
      }
      blocks.push({ lang: FENCE_OPEN.exec(line)![2]!.toLowerCase(), body, file });
      i = end < 0 ? lines.length : end;
    } else if (section === "hypothesis") {
      hypothesis.push(line);
    }
  }

  if (edits.length === 0) edits.push(...editsFromBlocks(blocks));
  if (!title) throw new ReplyFormatError("Expected a `TITLE: <one line>` line, got none");
  const text = hypothesis.join("\n").trim();
  if (!text) throw new ReplyFormatError("Expected a `HYPOTHESIS:` section with text, got none");
  if (edits.length === 0) {
    const code = blocks.find((b) => b.body.length > 0);
    throw new ReplyFormatError(
      code
        ? `Expected SEARCH/REPLACE blocks, got a code block of ${code.body.length} lines that is neither a diff nor a whole train.ts (a whole file imports ./src/engine/index.ts and ./prepare.ts): quote the lines to change in \`EDIT train.ts\` SEARCH/REPLACE blocks`
        : "Expected at least one `EDIT train.ts` block with SEARCH/REPLACE, got none",
    );
  }
  return { title: title.slice(0, 120), hypothesis: text, edits };
}

/** Edits from code blocks when a reply has no SEARCH/REPLACE block: diffs, else the last whole file. */
function editsFromBlocks(blocks: readonly CodeBlock[]): Edit[] {
  const diffs = blocks.filter((b) => b.lang === "diff" || b.lang === "patch" || b.body.some((l) => l.startsWith("@@")));
  if (diffs.length > 0) return diffs.flatMap((b) => editsFromDiff(b.body, b.file));
  const whole = blocks.filter((b) => isWholeTrainFile(b.body)).at(-1);
  return whole ? [{ file: whole.file ?? EDITABLE_FILE, search: "", replace: whole.body.join("\n") }] : [];
}
