import type { Edit } from "./proposal.ts";

/** Edits that cannot be applied; each message names the edit and what went wrong. */
export class EditError extends Error {
  override name = "EditError";
}

/** Where a search text matched: a span of the text, and how to re-indent the replacement. */
interface Match {
  start: number;
  end: number;
  /** Maps an indentation of the SEARCH text to the file's; identity for a verbatim match. */
  indent: (line: string) => string;
}

const same = (line: string) => line;

/**
 * Applies search/replace edits in order. Each search text must occur exactly once; when it
 * occurs nowhere verbatim, a match that ignores trailing whitespace on each line is accepted,
 * then one that also ignores indentation (models re-indent code, or use tabs), in which case
 * the replacement is re-indented the way the search text was. An empty search text replaces
 * the whole file. An edit that repeats an earlier one exactly is skipped.
 *
 * @param files - current contents by path; an edit to a path not in it is an error.
 * @returns the new contents of every path the edits touched.
 * @throws EditError listing every edit that failed, with the closest lines of the file.
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
    if (edit.search === "") {
      changed[edit.file] = edit.replace.endsWith("\n") || !current.endsWith("\n") ? edit.replace : `${edit.replace}\n`;
      return;
    }
    const repeated = edits.findIndex((e) => e.file === edit.file && e.search === edit.search && e.replace === edit.replace);
    if (repeated < index) return;
    const matches = locate(current, edit.search);
    if (matches.length === 1) {
      const [{ start, end, indent }] = matches;
      const replace = edit.replace.split("\n").map((line) => (line.trim() === "" ? line : indent(line))).join("\n");
      changed[edit.file] = current.slice(0, start) + replace + current.slice(end);
    } else if (matches.length > 1) {
      const lines = matches.map((m) => lineOf(current, m.start)).join(", ");
      errors.push(`${label}: the SEARCH text matches ${matches.length} places (lines ${lines}); include more surrounding lines to pick one:\n${edit.search}`);
    } else {
      errors.push(`${label}: the SEARCH text was not found${whyNotFound(edit, index, edits, files[edit.file] ?? "", current)}`);
    }
  });
  if (errors.length > 0) throw new EditError(errors.join("\n\n"));
  return changed;
}

const lineOf = (text: string, offset: number) => text.slice(0, offset).split("\n").length;
const indentOf = (line: string) => /^[ \t]*/.exec(line)![0];

/** Every match of `search` in `text`: verbatim, else ignoring trailing whitespace, else indentation too. */
function locate(text: string, search: string): Match[] {
  const exact: Match[] = [];
  for (let at = text.indexOf(search); at !== -1; at = text.indexOf(search, at + 1)) exact.push({ start: at, end: at + search.length, indent: same });
  if (exact.length > 0) return exact;

  const lines = text.split("\n");
  const offsets: number[] = [];
  let offset = 0;
  for (const line of lines) {
    offsets.push(offset);
    offset += line.length + 1;
  }
  const wanted = search.split("\n");
  const spanAt = (i: number, indent: Match["indent"]): Match => {
    const last = i + wanted.length - 1;
    return { start: offsets[i]!, end: offsets[last]! + lines[last]!.length, indent };
  };
  const startsWhere = (same: (a: string, b: string) => boolean) => {
    const starts: number[] = [];
    for (let i = 0; i + wanted.length <= lines.length; i++) if (wanted.every((w, j) => same(lines[i + j]!, w))) starts.push(i);
    return starts;
  };
  const trailing = startsWhere((a, b) => a.trimEnd() === b.trimEnd());
  if (trailing.length > 0) return trailing.map((i) => spanAt(i, same));
  return startsWhere((a, b) => a.trim() === b.trim()).map((i) => spanAt(i, reindenter(wanted, lines.slice(i, i + wanted.length))));
}

/**
 * How the file indents what the search text indents otherwise: a map from each indentation the
 * search used to the file's, and for others a straight line through them (a shift, or two
 * spaces where the file has four), in the file's indent character.
 */
function reindenter(search: readonly string[], found: readonly string[]): Match["indent"] {
  const known = new Map<string, string>();
  search.forEach((line, j) => {
    if (line.trim() !== "") known.set(indentOf(line), indentOf(found[j]!));
  });
  const pairs = [...known].map(([s, f]) => [s.length, f.length] as const);
  const [x0, y0] = pairs[0] ?? [0, 0];
  const other = pairs.find(([x]) => x !== x0);
  const slope = other ? (other[1] - y0) / (other[0] - x0) : 1;
  const fileChar = [...known.values()].find((f) => f.length > 0)?.[0] ?? " ";
  return (line) => {
    const indent = indentOf(line);
    const mapped = known.get(indent) ?? fileChar.repeat(Math.max(0, Math.round(y0 + slope * (indent.length - x0))));
    return mapped + line.slice(indent.length);
  };
}

/** Why a search text was not found, and what the file has instead. */
function whyNotFound(edit: Edit, index: number, edits: readonly Edit[], original: string, current: string): string {
  const earlier = edits.slice(0, index).findIndex((e) => e.file === edit.file && overlaps(original, e.search, edit.search));
  const [quoted] = locate(original, edit.search);
  if (earlier >= 0 && quoted) {
    const lines = `${lineOf(original, quoted.start)}-${lineOf(original, quoted.end)}`;
    return `: it quotes lines ${lines}, which Edit ${earlier + 1} already changed. Edits apply in order, each to the result of the one before: put both changes in one edit, or quote those lines as Edit ${earlier + 1} left them.`;
  }
  const elided = edit.search.split("\n").find((l) => /^\s*(\/\/|#|\/\*)?\s*(\.\.\.|…)/.test(l));
  const hint = elided ? ` A SEARCH text is matched literally: \`${elided.trim()}\` does not stand for the lines it leaves out; quote every line.` : "";
  return `.${hint}${closest(current, edit.search)}`;
}

/** True when the two search texts quote a common line of `text` where each occurs. */
function overlaps(text: string, a: string, b: string): boolean {
  const [ma, mb] = [locate(text, a), locate(text, b)];
  return ma.length === 1 && mb.length === 1 && ma[0]!.start < mb[0]!.end && mb[0]!.start < ma[0]!.end;
}

/** How alike two lines are, whitespace aside: 1 when equal, else their common prefix's share when over half. */
function likeness(a: string, b: string): number {
  const [x, y] = [a.trim(), b.trim()];
  if (x === "" || y === "") return 0;
  if (x === y) return 1;
  let n = 0;
  while (n < x.length && x[n] === y[n]) n++;
  const share = n / Math.max(x.length, y.length);
  return share > 0.5 ? share : 0;
}

/** The lines of `text` most like `search`, numbered, or a note that none is. */
function closest(text: string, search: string): string {
  const lines = text.split("\n");
  const wanted = search.split("\n");
  let best = { at: 0, score: 0 };
  for (let i = 0; i < lines.length; i++) {
    let score = 0;
    for (let j = 0; j < wanted.length && i + j < lines.length; j++) score += likeness(lines[i + j]!, wanted[j]!);
    if (score > best.score) best = { at: i, score };
  }
  if (best.score === 0) return " No line of it occurs in the file: copy the SEARCH text from the current train.ts.";
  const shown = lines.slice(best.at, best.at + wanted.length).map((l, j) => `${String(best.at + j + 1).padStart(5)} | ${l}`);
  return ` The closest lines of the file, ${best.at + 1}-${best.at + shown.length}, are (copy the SEARCH text from them):\n${shown.join("\n")}`;
}
