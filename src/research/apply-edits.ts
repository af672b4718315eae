import type { Edit } from "./proposal.ts";

/** Edits that cannot be applied; each message names the edit and what went wrong. */
export class EditError extends Error {
  override name = "EditError";
}

/**
 * Applies search/replace edits in order. Each search text must occur exactly once;
 * when it occurs nowhere verbatim, a match that ignores trailing whitespace on each line
 * is accepted, since models often drop it.
 *
 * @param files - current contents by path; an edit to a path not in it is an error.
 * @returns the new contents of every path the edits touched.
 * @throws EditError listing every edit that failed.
 */
export function applyEdits(files: Readonly<Record<string, string>>, edits: readonly Edit[]): Record<string, string> {
  const changed: Record<string, string> = {};
  const errors: string[] = [];
  edits.forEach((edit, index) => {
    const label = `Edit ${index + 1} (${edit.file})`;
    const current = changed[edit.file] ?? files[edit.file];
    if (current === undefined) {
      errors.push(`${label}: expected an existing file, got \`${edit.file}\``);
      return;
    }
    const span = locate(current, edit.search);
    if (span.count !== 1) {
      const where = span.count === 0 ? "was not found" : `matches ${span.count} places; include more surrounding lines`;
      errors.push(`${label}: the SEARCH text ${where}:\n${edit.search}`);
      return;
    }
    changed[edit.file] = current.slice(0, span.start) + edit.replace + current.slice(span.end);
  });
  if (errors.length > 0) throw new EditError(errors.join("\n\n"));
  return changed;
}

/** Where `search` occurs in `text`: verbatim first, else line by line without trailing whitespace. */
function locate(text: string, search: string): { count: number; start: number; end: number } {
  const exact = occurrences(text, search);
  if (exact.length > 0) return { count: exact.length, start: exact[0]!, end: exact[0]! + search.length };

  const lines = text.split("\n");
  const wanted = search.split("\n").map((l) => l.trimEnd());
  const offsets: number[] = [];
  let offset = 0;
  for (const line of lines) {
    offsets.push(offset);
    offset += line.length + 1;
  }
  const starts: number[] = [];
  for (let i = 0; i + wanted.length <= lines.length; i++) {
    if (wanted.every((w, j) => lines[i + j]!.trimEnd() === w)) starts.push(i);
  }
  if (starts.length === 0) return { count: 0, start: 0, end: 0 };
  const first = starts[0]!;
  const last = first + wanted.length - 1;
  return { count: starts.length, start: offsets[first]!, end: offsets[last]! + lines[last]!.length };
}

function occurrences(text: string, search: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(search); at !== -1; at = text.indexOf(search, at + 1)) found.push(at);
  return found;
}
