import { rm, writeFile, rename } from "node:fs/promises";

/**
 * Write `data` to `path` through a temporary file and a rename, so that `path` either does
 * not exist or is complete, even if the process dies halfway.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
