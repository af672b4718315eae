// Worker thread of EncodePool: builds the tokenizer once, then encodes the batches it is sent.
import { parentPort, workerData } from "node:worker_threads";
import { Tokenizer } from "./tokenizer.ts";

/** A request from the pool. */
export interface EncodeRequest {
  id: number;
  texts: string[];
  prepend?: number;
}

/** The reply: every encoding back to back in `flat`, with their `lengths`; or the error. */
export type EncodeReply = { id: number; flat: Int32Array; lengths: Int32Array } | { id: number; error: string };

const port = parentPort!;
const tokenizer = Tokenizer.fromTiktoken(workerData.ranks as string);
port.on("message", ({ id, texts, prepend }: EncodeRequest) => {
  try {
    const encoded = tokenizer.encodeBatch(texts, prepend);
    const lengths = Int32Array.from(encoded, (ids) => ids.length);
    const flat = new Int32Array(lengths.reduce((a, b) => a + b, 0));
    let offset = 0;
    for (const ids of encoded) {
      flat.set(ids, offset);
      offset += ids.length;
    }
    port.postMessage({ id, flat, lengths } satisfies EncodeReply, [flat.buffer, lengths.buffer]);
  } catch (error) {
    port.postMessage({ id, error: (error as Error).message } satisfies EncodeReply);
  }
});
port.postMessage("ready");
