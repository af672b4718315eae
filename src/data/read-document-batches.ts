import { readFile } from "node:fs/promises";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";

/** Separates documents in a `.txt` shard, as in TinyStories; a file without it is one document. */
export const TEXT_DOCUMENT_SEPARATOR = "<|endoftext|>";

/**
 * Read the documents of one shard in batches of `batchSize`, in file order.
 * A `.parquet` shard is read row group by row group from its `text` column; a `.txt` shard
 * is UTF-8 text whose documents are separated by {@link TEXT_DOCUMENT_SEPARATOR}.
 *
 * @throws an error naming the file when it is unreadable, corrupt or truncated, has no
 *   `text` column, or holds a value that is not a string.
 */
export async function* readDocumentBatches(path: string, batchSize = 128): AsyncGenerator<string[]> {
  const docs = path.endsWith(".txt") ? readTextShard(path) : readParquetShard(path);
  let batch: string[] = [];
  for await (const group of docs) {
    for (const doc of group) {
      batch.push(doc);
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
    // Batches never span row groups, as in the reference.
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
  }
}

async function* readTextShard(path: string): AsyncGenerator<string[]> {
  const bytes = await readFile(path).catch((error: Error) => {
    throw new Error(`Could not read text shard \`${path}\`: ${error.message}`, { cause: error });
  });
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new Error(`Expected text shard \`${path}\` to be valid UTF-8, but it is not`, { cause: error });
  }
  yield text
    .split(TEXT_DOCUMENT_SEPARATOR)
    .map((doc) => doc.trim())
    .filter((doc) => doc.length > 0);
}

/**
 * Open a parquet shard and read its footer, checking that it has a `text` column.
 * @throws an error naming the file when it is missing, corrupt, truncated or has no `text` column.
 */
export async function openParquetShard(path: string): Promise<{ file: AsyncBuffer; metadata: FileMetaData }> {
  const file = await asyncBufferFromFile(path).catch(failReading(path));
  const metadata = await parquetMetadataAsync(file).catch(failReading(path));
  const columns = parquetSchema(metadata).children.map((child) => child.element.name);
  if (!columns.includes("text")) {
    const found = columns.map((name) => `\`${name}\``).join(", ") || "none";
    throw new Error(`Expected parquet shard \`${path}\` to have a \`text\` column, got ${found}`);
  }
  return { file, metadata };
}

function failReading(path: string): (error: unknown) => never {
  return (error) => {
    throw new Error(`Could not read parquet shard \`${path}\`: ${(error as Error).message}`, { cause: error });
  };
}

async function* readParquetShard(path: string): AsyncGenerator<string[]> {
  const { file, metadata } = await openParquetShard(path);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await parquetReadObjects({ file, metadata, columns: ["text"], rowStart, rowEnd, compressors }).catch(failReading(path));
    const texts = rows.map((row, i) => {
      if (typeof row.text !== "string") {
        throw new Error(`Expected row ${rowStart + i} of parquet shard \`${path}\` to hold a string \`text\`, got \`${row.text}\``);
      }
      return row.text;
    });
    rowStart = rowEnd;
    yield texts;
  }
}
