/** The comment commands: `@<app-slug> rerun|hold|discard|pause|resume`. */
export const COMMANDS = ["rerun", "hold", "discard", "pause", "resume"] as const;

export type Command = (typeof COMMANDS)[number];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Finds a command addressed to the app in a comment: `@slug command` at the start of a
 * line or after a space, outside quoted (`>`) lines. Anything else is no command.
 */
export function parseCommand(body: string, slug: string): Command | null {
  const mention = new RegExp(`(?:^|\\s)@${escape(slug)}(?:\\[bot\\])?\\s+(\\w+)`, "i");
  for (const line of body.split("\n")) {
    if (line.trimStart().startsWith(">")) continue;
    const word = mention.exec(line)?.[1]?.toLowerCase();
    if (word !== undefined) return (COMMANDS as readonly string[]).includes(word) ? (word as Command) : null;
  }
  return null;
}
