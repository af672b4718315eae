/** A change of the base's lines `[start, end)` into `lines`. */
interface Hunk {
  start: number;
  end: number;
  lines: string[];
}

/** The changes that turn `base` into `other`, from a longest common subsequence of their lines. */
function hunks(base: string[], other: string[]): Hunk[] {
  // Common ends take no table: an edit of a few const lines leaves a small middle.
  let prefix = 0;
  while (prefix < base.length && prefix < other.length && base[prefix] === other[prefix]) prefix++;
  let suffix = 0;
  while (suffix < base.length - prefix && suffix < other.length - prefix && base[base.length - 1 - suffix] === other[other.length - 1 - suffix]) suffix++;
  const a = base.slice(prefix, base.length - suffix);
  const b = other.slice(prefix, other.length - suffix);
  const width = b.length + 1;
  // common[i * width + j]: the length of a longest common subsequence of a[i..] and b[j..].
  const common = new Int32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      common[i * width + j] = a[i] === b[j] ? common[(i + 1) * width + j + 1]! + 1 : Math.max(common[(i + 1) * width + j]!, common[i * width + j + 1]!);
    }
  }
  const found: Hunk[] = [];
  let open: Hunk | null = null;
  let [i, j] = [0, 0];
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j] && common[i * width + j] === common[(i + 1) * width + j + 1]! + 1) {
      if (open) found.push(open);
      open = null;
      i++;
      j++;
      continue;
    }
    open ??= { start: prefix + i, end: prefix + i, lines: [] };
    if (j < b.length && (i === a.length || common[i * width + j + 1]! >= common[(i + 1) * width + j]!)) open.lines.push(b[j++]!);
    else open.end = prefix + ++i;
  }
  if (open) found.push(open);
  return found;
}

/** Whether two changes from different sides touch the same lines, or one inserts where the other changes. */
function touch(x: Hunk, y: Hunk): boolean {
  if (x.start < y.end && y.start < x.end) return true;
  const inserts = x.start === x.end || y.start === y.end;
  return inserts && x.start <= y.end && y.start <= x.end;
}

const same = (x: Hunk, y: Hunk) => x.start === y.start && x.end === y.end && x.lines.join("\n") === y.lines.join("\n");

/**
 * Replays one change (`base` -> `changed`) on top of `onto`, another descendant of `base`:
 * a three-way merge of lines that keeps everything `onto` has and adds the change alone.
 *
 * @returns the replayed text, or null when the change and `onto` touch the same lines
 *   (an identical edit on both sides is not a conflict).
 */
export function replayChange(base: string, changed: string, onto: string): string | null {
  const lines = base.split("\n");
  const ours = hunks(lines, changed.split("\n"));
  const theirs = hunks(lines, onto.split("\n"));
  const kept = theirs.filter((t) => !ours.some((o) => same(o, t)));
  if (ours.some((o) => kept.some((t) => touch(o, t)))) return null;
  const out: string[] = [];
  let at = 0;
  for (const hunk of [...ours, ...kept].sort((x, y) => x.start - y.start)) {
    out.push(...lines.slice(at, hunk.start), ...hunk.lines);
    at = hunk.end;
  }
  out.push(...lines.slice(at));
  return out.join("\n");
}
