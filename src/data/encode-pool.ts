import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { EncodeReply, EncodeRequest } from "./encode-worker.ts";
import type { DocumentEncoder } from "./packed-batches.ts";
import type { Tokenizer } from "./tokenizer.ts";

// Workers run TypeScript too: each registers tsx's loader before importing the worker module.
const tsxApi = new URL("dist/esm/api/index.mjs", pathToFileURL(createRequire(import.meta.url).resolve("tsx/package.json"))).href;
const workerModule = new URL("./encode-worker.ts", import.meta.url).href;
const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerModule)}); });`;

/**
 * Encodes batches of documents on several worker threads, each with its own copy of the
 * tokenizer (and chunk cache). A batch is cut into one contiguous slice per thread, balanced
 * by length, and the results come back in order.
 */
export class EncodePool implements DocumentEncoder {
  private readonly pending = new Map<number, { resolve: (reply: EncodeReply) => void; reject: (error: Error) => void }>();
  private nextId = 0;

  private constructor(
    private readonly workers: Worker[],
    readonly bosTokenId: number,
  ) {
    for (const worker of workers) {
      worker.on("message", (reply: EncodeReply) => {
        this.pending.get(reply.id)?.resolve(reply);
        this.pending.delete(reply.id);
        if (this.pending.size === 0) this.setBusy(false);
      });
      // A dead worker fails every request in flight rather than leaving it hanging.
      worker.on("error", (error) => {
        for (const { reject } of this.pending.values()) reject(error);
        this.pending.clear();
        this.setBusy(false);
      });
    }
  }

  /** Start `threads` workers (default: one per core) and wait until each has built its tokenizer. */
  static async create(tokenizer: Tokenizer, threads = availableParallelism()): Promise<EncodePool> {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`Expected \`threads\` to be an integer >= 1, got \`${threads}\``);
    const ranks = tokenizer.toTiktoken();
    const workers = Array.from({ length: threads }, () => new Worker(bootstrap, { eval: true, workerData: { ranks } }));
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.once("message", () => resolve());
            worker.once("error", reject);
          }),
      ),
    );
    const pool = new EncodePool(workers, tokenizer.bosTokenId);
    pool.setBusy(false);
    return pool;
  }

  /** The number of worker threads. */
  get threads(): number {
    return this.workers.length;
  }

  /** Encode each text (with `prepend` first, if given), like {@link Tokenizer.encodeBatch}. */
  async encodeBatch(texts: readonly string[], prepend?: number): Promise<Int32Array[]> {
    const slices = balancedSlices(texts, this.workers.length);
    const replies = await Promise.all(slices.map(([start, end], w) => this.request(w, { id: this.nextId++, texts: texts.slice(start, end), prepend })));
    const out: Int32Array[] = [];
    for (const reply of replies) {
      if ("error" in reply) throw new Error(reply.error);
      let offset = 0;
      for (const length of reply.lengths) {
        out.push(reply.flat.subarray(offset, offset + length));
        offset += length;
      }
    }
    return out;
  }

  /** Stop the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  // Idle workers do not keep the process alive, so a pool never has to be closed.
  private setBusy(busy: boolean): void {
    for (const worker of this.workers) {
      if (busy) worker.ref();
      else worker.unref();
    }
  }

  private request(worker: number, request: EncodeRequest): Promise<EncodeReply> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.setBusy(true);
      this.pending.set(request.id, { resolve, reject });
      this.workers[worker].postMessage(request);
    });
  }
}

const shared = new WeakMap<Tokenizer, Promise<DocumentEncoder>>();

/**
 * One pool per tokenizer for the dataloaders, with a thread per core up to `maxThreads`;
 * on a single core, the tokenizer itself.
 */
export function sharedEncoder(tokenizer: Tokenizer, maxThreads = 8): Promise<DocumentEncoder> {
  let encoder = shared.get(tokenizer);
  if (!encoder) {
    const threads = Math.min(availableParallelism(), maxThreads);
    encoder = threads > 1 ? EncodePool.create(tokenizer, threads) : Promise.resolve(tokenizer);
    shared.set(tokenizer, encoder);
  }
  return encoder;
}

/** Cut `texts` into at most `parts` contiguous [start, end) slices of about equal total length. */
function balancedSlices(texts: readonly string[], parts: number): Array<[number, number]> {
  const total = texts.reduce((sum, text) => sum + text.length, 0);
  const slices: Array<[number, number]> = [];
  let start = 0;
  let seen = 0;
  for (let i = 0; i < texts.length; i++) {
    seen += texts[i].length;
    if (seen >= ((slices.length + 1) * total) / parts && slices.length < parts - 1) {
      slices.push([start, i + 1]);
      start = i + 1;
    }
  }
  slices.push([start, texts.length]);
  return slices;
}
