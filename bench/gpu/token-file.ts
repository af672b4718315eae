/**
 * The token file both benchmark sides train on, so they see identical tokens: packed rows of
 * T + 1 tokens (inputs = row[0..T), targets = row[1..T]) from our tokenizer and dataloader.
 *
 * Layout, little-endian: "ARTOKEN1", u32 vocab, u32 T, u32 trainRows, u32 valRows,
 * u16 tokenBytes[vocab], u16 train[trainRows][T + 1], u16 val[valRows][T + 1].
 * bench/torch/tokens.py reads the same layout.
 */
import { readFileSync, writeFileSync } from "node:fs";

const MAGIC = "ARTOKEN1";
const HEADER_BYTES = 8 + 4 * 4;

export interface TokenFile {
  vocab: number;
  seqLen: number;
  /** UTF-8 byte length of each token id, 0 for special tokens (the bpb denominator). */
  tokenBytes: Int32Array;
  /** trainRows x (seqLen + 1) tokens. */
  train: Uint16Array;
  /** valRows x (seqLen + 1) tokens. */
  val: Uint16Array;
}

export function writeTokenFile(path: string, f: TokenFile): void {
  if (f.vocab > 65536) throw new Error(`Expected a vocabulary of at most 65536 tokens (u16 ids), got ${f.vocab}`);
  const row = f.seqLen + 1;
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(MAGIC, 0, "ascii");
  [f.vocab, f.seqLen, f.train.length / row, f.val.length / row].forEach((v, i) => header.writeUInt32LE(v, 8 + 4 * i));
  const bytes = Uint16Array.from(f.tokenBytes);
  writeFileSync(path, Buffer.concat([header, Buffer.from(bytes.buffer), Buffer.from(f.train.buffer, f.train.byteOffset, f.train.byteLength),
    Buffer.from(f.val.buffer, f.val.byteOffset, f.val.byteLength)]));
}

export function readTokenFile(path: string): TokenFile {
  const buf = readFileSync(path);
  if (buf.toString("ascii", 0, 8) !== MAGIC) throw new Error(`Expected \`${path}\` to be a token file starting with ${MAGIC}`);
  const [vocab, seqLen, trainRows, valRows] = [0, 1, 2, 3].map((i) => buf.readUInt32LE(8 + 4 * i));
  const row = seqLen + 1;
  const u16 = (at: number, n: number) => new Uint16Array(buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + 2 * n));
  const tokenBytes = Int32Array.from(u16(HEADER_BYTES, vocab));
  const trainAt = HEADER_BYTES + 2 * vocab;
  return { vocab, seqLen, tokenBytes, train: u16(trainAt, trainRows * row), val: u16(trainAt + 2 * trainRows * row, valRows * row) };
}

/**
 * Batches of `batchSize` rows from `rows` (n x (seqLen + 1)), in file order: forever with
 * `loop` (epoch counts the passes), else one pass that drops an incomplete last batch.
 */
export function* tokenBatches(rows: Uint16Array, seqLen: number, batchSize: number, loop: boolean):
  Generator<{ inputs: Int32Array; targets: Int32Array; epoch: number }> {
  const row = seqLen + 1, n = rows.length / row;
  if (n < batchSize) throw new Error(`Expected at least ${batchSize} rows in the token file, got ${n}`);
  for (let epoch = 1; ; epoch++) {
    for (let r = 0; r + batchSize <= n; r += batchSize) {
      const inputs = new Int32Array(batchSize * seqLen), targets = new Int32Array(batchSize * seqLen);
      for (let b = 0; b < batchSize; b++) {
        const src = rows.subarray((r + b) * row, (r + b + 1) * row);
        inputs.set(src.subarray(0, seqLen), b * seqLen);
        targets.set(src.subarray(1), b * seqLen);
      }
      yield { inputs, targets, epoch };
    }
    if (!loop) return;
  }
}
