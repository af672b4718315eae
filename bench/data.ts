/**
 * Data benchmark: BPE training time (10 MB vs 100 MB), encode throughput against the tiktoken
 * npm package (WASM) with the same ranks, on one core and on all, and packing throughput.
 *
 *   npm run bench:data [-- CORPUS_DIR]     (default /work/shared/data/corpus)
 *
 * Prints a table, then one JSON line with every figure.
 */
import { availableParallelism } from "node:os";
import { Tiktoken } from "tiktoken";
import { BestFitPacker } from "../src/data/best-fit-packer.ts";
import { EncodePool } from "../src/data/encode-pool.ts";
import { listShards } from "../src/data/list-shards.ts";
import { packedBatches, type DocumentEncoder } from "../src/data/packed-batches.ts";
import { readDocumentBatches } from "../src/data/read-document-batches.ts";
import { SPLIT_PATTERN } from "../src/data/split-pattern.ts";
import { Tokenizer } from "../src/data/tokenizer.ts";
import { trainBpe } from "../src/data/train-bpe.ts";

const corpusDir = process.argv[2] ?? "/work/shared/data/corpus";
const VOCAB_SIZE = 8192;
const ENCODE_MB = 20;
const [B, T] = [128, 2048];

const seconds = (start: number) => (performance.now() - start) / 1000;
const megabytes = (texts: readonly string[]) => texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0) / 1e6;
const rows: Array<[string, string]> = [];
const report = (label: string, value: string) => {
  rows.push([label, value]);
  console.error(`  ${label}: ${value}`);
};

/** The first documents of `docs` that hold `mb` megabytes, cycling through them if need be. */
function takeMegabytes(docs: readonly string[], mb: number): string[] {
  const out: string[] = [];
  for (let bytes = 0, i = 0; bytes < mb * 1e6; i = (i + 1) % docs.length) {
    out.push(docs[i]);
    bytes += Buffer.byteLength(docs[i]);
  }
  return out;
}

// Read every shard, validation last, as the corpus text.
const shards = await listShards(corpusDir);
let start = performance.now();
const docs: string[] = [];
for (const path of [...shards.train, shards.val]) for await (const batch of readDocumentBatches(path)) docs.push(...batch);
const corpusMb = megabytes(docs);
report("read parquet", `${corpusMb.toFixed(1)} MB in ${seconds(start).toFixed(2)} s (${(corpusMb / seconds(start)).toFixed(0)} MB/s)`);

// BPE training, near-linear in the text: 10 MB vs 100 MB (the corpus, then its start again).
const numMerges = VOCAB_SIZE - 260;
start = performance.now();
await trainBpe(takeMegabytes(docs, 10), numMerges);
const bpe10 = seconds(start);
report("BPE train 10 MB", `${bpe10.toFixed(2)} s`);
const hundred = takeMegabytes(docs, 100);
start = performance.now();
const tokenizer = new Tokenizer(await trainBpe(hundred, numMerges));
const bpe100 = seconds(start);
report(`BPE train 100 MB (${corpusMb.toFixed(1)} MB corpus + its start again)`, `${bpe100.toFixed(2)} s, ratio ${(bpe100 / bpe10).toFixed(2)}x`);

// Encoding the same text with the same ranks: ours (fresh, so the chunk cache starts empty) vs tiktoken.
const encodeTexts = takeMegabytes(docs, ENCODE_MB);
const encodeMb = megabytes(encodeTexts);
const reference = new Tiktoken(tokenizer.toTiktoken(), { ...tokenizer.specialTokens }, SPLIT_PATTERN);
const fresh = Tokenizer.fromTiktoken(tokenizer.toTiktoken());
start = performance.now();
const ours = encodeTexts.map((text) => fresh.encode(text));
const oursCold = encodeMb / seconds(start);
start = performance.now();
for (const text of encodeTexts) fresh.encode(text);
const oursWarm = encodeMb / seconds(start);
start = performance.now();
const theirs = encodeTexts.map((text) => reference.encode_ordinary(text));
const tiktokenMbS = encodeMb / seconds(start);
const mismatches = ours.filter((ids, i) => ids.length !== theirs[i].length || ids.some((id, j) => id !== theirs[i][j])).length;
const tokens = ours.reduce((sum, ids) => sum + ids.length, 0);
reference.free();
report(`encode ${encodeMb.toFixed(1)} MB, 1 thread, first pass`, `${oursCold.toFixed(1)} MB/s (${((tokens / encodeMb) * oursCold / 1e6).toFixed(2)}M tokens/s)`);
report("encode, 1 thread, cache warm", `${oursWarm.toFixed(1)} MB/s`);
report("tiktoken 1.0.22 (WASM), 1 thread", `${tiktokenMbS.toFixed(1)} MB/s`);
report("ids identical to tiktoken", mismatches === 0 ? `yes (${tokens} tokens)` : `NO: ${mismatches} documents differ`);

// All cores: a fresh pool (empty caches), batches of 1024 documents.
const cores = availableParallelism();
const pool = await EncodePool.create(tokenizer, cores);
start = performance.now();
for (let i = 0; i < encodeTexts.length; i += 1024) await pool.encodeBatch(encodeTexts.slice(i, i + 1024));
const poolMbS = encodeMb / seconds(start);
await pool.close();
report(`encode, ${cores} threads, first pass`, `${poolMbS.toFixed(1)} MB/s (${(poolMbS / oursCold).toFixed(2)}x one thread)`);

// Packing alone (documents already encoded), at the reference's B=128, T=2048.
const encodedDocs = ours.map((ids) => {
  const withBos = new Int32Array(ids.length + 1);
  withBos[0] = tokenizer.bosTokenId;
  withBos.set(ids, 1);
  return withBos;
});
const packer = new BestFitPacker(B, T);
let packed = 0;
let next = 0;
start = performance.now();
while (seconds(start) < 3) {
  const result = packer.pack();
  if (result === "docs") {
    packer.push(encodedDocs.slice(next, next + 128));
    next = (next + 128) % encodedDocs.length;
  } else if (result !== "done") packed += B * T;
}
const packTokS = packed / seconds(start);
report(`pack B=${B} T=${T}, 1 thread`, `${(packTokS / 1e6).toFixed(1)}M tokens/s`);

// The whole training loader: read parquet, encode, pack, split into inputs/targets.
async function loaderTokensPerSecond(encoder: DocumentEncoder): Promise<number> {
  const loader = packedBatches(shards.train, encoder, B, T, { loop: true });
  let loaded = 0;
  const began = performance.now();
  while (loaded < 8e6) {
    await loader.next();
    loaded += B * T;
  }
  return loaded / seconds(began);
}
const loaderTokS = await loaderTokensPerSecond(Tokenizer.fromTiktoken(tokenizer.toTiktoken()));
report("train loader end to end (read + encode + pack), 1 thread", `${(loaderTokS / 1e6).toFixed(2)}M tokens/s`);
const loaderPool = await EncodePool.create(tokenizer, cores);
const loaderPoolTokS = await loaderTokensPerSecond(loaderPool);
await loaderPool.close();
report(`train loader end to end, encoding on ${cores} threads`, `${(loaderPoolTokS / 1e6).toFixed(2)}M tokens/s`);

const width = Math.max(...rows.map(([label]) => label.length));
console.log(`\ndata benchmark on ${corpusDir} (${cores} cores)`);
for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
const round = (x: number, digits = 2) => Number(x.toFixed(digits));
console.log(
  JSON.stringify({
    bench: "data",
    corpus_mb: round(corpusMb, 1),
    encode_mb: round(encodeMb, 1),
    encode_mb_s: round(oursCold),
    encode_mb_s_warm: round(oursWarm),
    tiktoken_mb_s: round(tiktokenMbS),
    ratio_vs_tiktoken: round(oursCold / tiktokenMbS),
    ids_identical_to_tiktoken: mismatches === 0,
    cores,
    encode_mb_s_all_cores: round(poolMbS),
    ratio_all_cores_vs_one: round(poolMbS / oursCold),
    bpe_10mb_s: round(bpe10),
    bpe_100mb_s: round(bpe100),
    bpe_ratio_100_vs_10: round(bpe100 / bpe10),
    pack_mtok_s: round(packTokS / 1e6),
    loader_mtok_s: round(loaderTokS / 1e6),
    loader_mtok_s_all_cores: round(loaderPoolTokS / 1e6),
  }),
);
