import { open, rename, rm, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** Options for {@link downloadFile}. */
export interface DownloadFileOptions {
  /** Attempts before giving up (the reference's is 5). */
  attempts?: number;
  /** Wait before retry number `attempt` (1-based); the reference waits 2^attempt seconds. */
  backoffMs?: (attempt: number) => number;
  /** Called with the number of bytes the server is about to send, when it says. */
  onLength?: (bytes: number) => void;
  /** Called with each chunk's size as it arrives. */
  onBytes?: (bytes: number) => void;
  /** Check the complete temporary file before it is renamed into place; throw to reject it. */
  verify?: (path: string) => Promise<void>;
  /** The fetch to use (tests pass a fake one). */
  fetch?: typeof fetch;
}

/**
 * Download `url` to `dest`, unless `dest` exists. Bytes go to `dest.tmp`; a failed attempt
 * resumes from where it stopped with an HTTP Range request. Only a complete, verified file
 * is renamed to `dest`. When every attempt fails, `dest.tmp` is removed and the error names
 * the URL and the file.
 */
export async function downloadFile(url: string, dest: string, options: DownloadFileOptions = {}): Promise<void> {
  const { attempts = 5, backoffMs = (attempt) => 1000 * 2 ** attempt, verify, fetch: fetchImpl = fetch } = options;
  if (await exists(dest)) return;
  const temporary = `${dest}.tmp`;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      await fetchInto(url, temporary, fetchImpl, options);
      // A file that arrived whole but fails verification cannot be resumed: start over.
      await verify?.(temporary).catch(async (error: unknown) => {
        await rm(temporary, { force: true });
        throw error;
      });
      await rename(temporary, dest);
      return;
    } catch (error) {
      lastError = error;
      if (attempt < attempts) await sleep(backoffMs(attempt));
    }
  }
  await rm(temporary, { force: true });
  throw new Error(`Could not download \`${url}\` to \`${dest}\` after ${attempts} attempts: ${(lastError as Error).message}`, {
    cause: lastError,
  });
}

/** Fetch `url` into `path`, appending to what is there when the server honours a Range request. */
async function fetchInto(
  url: string,
  path: string,
  fetchImpl: typeof fetch,
  { onLength, onBytes }: Pick<DownloadFileOptions, "onLength" | "onBytes">,
): Promise<void> {
  const offset = (await stat(path).catch(() => undefined))?.size ?? 0;
  const response = await fetchImpl(url, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {} });
  if (response.status === 416) {
    // The partial file does not fit what the server has now: start over.
    await rm(path, { force: true });
    throw new Error("HTTP 416 (range not satisfiable)");
  }
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
  const resumed = offset > 0 && response.status === 206;
  const length = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(length)) onLength?.(length);
  // Every chunk is written before the next is read, so an interrupted attempt keeps all it got.
  const file = await open(path, resumed ? "a" : "w");
  let received = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      await file.write(chunk);
      received += chunk.length;
      onBytes?.(chunk.length);
    }
  } finally {
    await file.close();
  }
  if (Number.isFinite(length) && received !== length) throw new Error(`the connection ended after ${received} of ${length} bytes`);
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
