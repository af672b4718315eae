import { createHash } from "node:crypto";

/** Lines with their whitespace collapsed, blank lines and comment-only lines dropped. */
function normalizedLines(source: string): string[] {
  return source
    .split("\n")
    .map((line) => line.replace(/\s+/g, " ").trim())
    .filter((line) => line !== "" && !line.startsWith("//"));
}

/**
 * Identifies a change by the lines it removes and adds, ignoring whitespace, comments and
 * line order, so the same idea proposed twice (or on a later parent) gets the same id.
 *
 * @returns 16 hex digits, or null when the change only touches whitespace, comments or line order.
 */
export function fingerprint(before: string, after: string): string | null {
  const counts = new Map<string, number>();
  for (const line of normalizedLines(before)) counts.set(line, (counts.get(line) ?? 0) + 1);
  const added: string[] = [];
  for (const line of normalizedLines(after)) {
    const left = counts.get(line) ?? 0;
    if (left > 0) counts.set(line, left - 1);
    else added.push(line);
  }
  const removed = [...counts].flatMap(([line, n]) => Array<string>(n).fill(line));
  if (added.length === 0 && removed.length === 0) return null;
  const text = `-${removed.sort().join("\n-")}\n+${added.sort().join("\n+")}`;
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}
