/** The kinds of hidden state the app keeps in issue and pull request bodies. */
export type MarkerKind = "experiment" | "dashboard";

const pattern = (kind: MarkerKind) => new RegExp(`<!-- autoresearch:${kind} (\\{.*?\\}) -->`, "s");

/**
 * Hides JSON in a Markdown body as an HTML comment. `--` never occurs outside JSON
 * strings, and inside them it is written as `-\u002d`, so the comment cannot end early.
 */
export function writeMarker(kind: MarkerKind, data: unknown): string {
  return `<!-- autoresearch:${kind} ${JSON.stringify(data).replace(/--/g, "-\\u002d")} -->`;
}

/** The JSON hidden in a body by {@link writeMarker}, or null when there is none or it does not parse. */
export function readMarker(kind: MarkerKind, body: string | null | undefined): unknown {
  const match = body ? pattern(kind).exec(body) : null;
  if (!match) return null;
  try {
    return JSON.parse(match[1]!);
  } catch {
    return null;
  }
}
