/** One-line progress: rewritten in place on a terminal, one line per update in a log file. */
export function writeProgress(line: string, stream: NodeJS.WriteStream = process.stdout): void {
  if (stream.isTTY) stream.write(`\r${line}\x1b[K`);
  else stream.write(`${line}\n`);
}
