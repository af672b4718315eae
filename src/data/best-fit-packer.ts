/** What {@link BestFitPacker.pack} needs before it can go on. */
export type PackerWant = "docs" | "done";

/**
 * BOS-aligned best-fit packing of documents into rows of `seqLen + 1` tokens, with no padding.
 *
 * Before every pick the buffer is topped up to `bufferSize` documents. Then the longest
 * document that fits the rest of the row (the first such in buffer order) is appended whole;
 * when none fits, the shortest is cropped to fill the row and the rest of it is dropped.
 * Documents must start with BOS, so every row does too.
 */
export class BestFitPacker {
  private readonly docs: Int32Array[] = [];
  private readonly rows: Int32Array;
  private readonly capacity: number;
  private row = 0;
  private pos = 0;
  private finished = false;

  constructor(
    readonly batchSize: number,
    readonly seqLen: number,
    readonly bufferSize = 1000,
  ) {
    for (const [name, value] of Object.entries({ batchSize, seqLen, bufferSize })) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`Expected \`${name}\` to be an integer >= 1, got \`${value}\``);
    }
    this.capacity = seqLen + 1;
    this.rows = new Int32Array(batchSize * this.capacity);
  }

  /** Add encoded documents to the back of the buffer. */
  push(docs: readonly Int32Array[]): void {
    for (const doc of docs) {
      if (doc.length === 0) throw new Error("Expected every document to hold at least one token (its BOS), got an empty one");
      this.docs.push(doc);
    }
  }

  /** Say that no more documents will come: packing then drains the buffer. */
  finish(): void {
    this.finished = true;
  }

  /**
   * Fill rows until the batch is complete and return it as `batchSize` rows of `seqLen + 1`
   * tokens (the array is reused by the next call), or say what is missing: more documents,
   * or nothing more can come ("done"; an incomplete last batch is dropped).
   */
  pack(): Int32Array | PackerWant {
    const docs = this.docs;
    while (this.row < this.batchSize) {
      const rowStart = this.row * this.capacity;
      while (this.pos < this.capacity) {
        if (docs.length < this.bufferSize && !this.finished) return "docs";
        if (docs.length === 0) return "done";
        const remaining = this.capacity - this.pos;
        let best = -1;
        let bestLength = 0;
        for (let i = 0; i < docs.length && bestLength < remaining; i++) {
          const length = docs[i].length;
          if (length <= remaining && length > bestLength) {
            best = i;
            bestLength = length;
          }
        }
        if (best >= 0) {
          this.rows.set(docs[best], rowStart + this.pos);
          this.pos += bestLength;
        } else {
          best = 0;
          for (let i = 1; i < docs.length; i++) if (docs[i].length < docs[best].length) best = i;
          this.rows.set(docs[best].subarray(0, remaining), rowStart + this.pos);
          this.pos = this.capacity;
        }
        docs.splice(best, 1);
      }
      this.row++;
      this.pos = 0;
    }
    this.row = 0;
    return this.rows;
  }
}
