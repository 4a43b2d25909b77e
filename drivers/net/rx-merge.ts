// Mergeable receive buffers (VIRTIO 1.2 §5.1.6.4, VIRTIO_NET_F_MRG_RXBUF): a frame
// arrives in `num_buffers` used buffers in a row, the virtio_net_hdr at the start of the
// first. Every count and length is checked (§5.1.6.4.2: num_buffers >= 1; every buffer
// used; the frame within the negotiated size); a frame that breaks a rule is dropped with
// the buffers that belong to it, and the next frame starts clean.

/** Offset of num_buffers (le16) in struct virtio_net_hdr. */
const NUM_BUFFERS = 10;

export type MergeResult = Uint8Array | string | null;

export class RxMerger {
  readonly #headerLen: number;
  readonly #maxFrame: number;
  readonly #maxBuffers: number;
  #pieces: Uint8Array[] = [];
  #bytes = 0;
  /** Buffers still to come for the frame being merged. */
  #remaining = 0;
  /** The frame being merged broke a rule: its remaining buffers are skipped. */
  #dropping = false;

  constructor(headerLen: number, maxFrame: number, bufferBytes: number) {
    this.#headerLen = headerLen;
    this.#maxFrame = maxFrame;
    this.#maxBuffers = Math.ceil((headerLen + maxFrame) / bufferBytes);
  }

  /** A frame is partly merged (its other buffers not yet used). */
  get pending(): boolean {
    return this.#remaining > 0;
  }

  /** One used buffer (`used`: the bytes the device wrote). Returns the whole frame, an
   * error (the frame is dropped), or null (more buffers to come). */
  take(used: Uint8Array): MergeResult {
    if (this.#remaining === 0) return this.#first(used);
    this.#remaining--;
    if (this.#dropping) {
      if (this.#remaining === 0) this.#dropping = false;
      return null;
    }
    if (used.length === 0) return this.#fail("an empty continuation buffer");
    this.#bytes += used.length;
    if (this.#bytes > this.#maxFrame) return this.#fail(`a merged frame over ${this.#maxFrame} bytes`);
    this.#pieces.push(used.slice());
    return this.#remaining === 0 ? this.#finish() : null;
  }

  #first(used: Uint8Array): MergeResult {
    const h = this.#headerLen;
    if (used.length < h) return `receive length ${used.length} (under the ${h}-byte header)`;
    const n = used[NUM_BUFFERS]! | (used[NUM_BUFFERS + 1]! << 8);
    if (n < 1) return "num_buffers 0";
    const data = used.subarray(h);
    // a count no frame can need: the count is not believed, only this buffer is dropped
    if (n > this.#maxBuffers) return `num_buffers ${n}: a frame of at most ${this.#maxFrame} bytes takes ${this.#maxBuffers}`;
    if (data.length > this.#maxFrame) return `receive length ${used.length}`;
    this.#pieces = [data.slice()];
    this.#bytes = data.length;
    this.#remaining = n - 1;
    return n === 1 ? this.#finish() : null;
  }

  #finish(): MergeResult {
    const pieces = this.#pieces;
    const total = this.#bytes;
    this.#pieces = [];
    this.#bytes = 0;
    if (total < 14) return `frame of ${total} bytes (under an Ethernet header)`;
    if (pieces.length === 1) return pieces[0]!;
    const frame = new Uint8Array(total);
    let at = 0;
    for (const p of pieces) {
      frame.set(p, at);
      at += p.length;
    }
    return frame;
  }

  #fail(reason: string): string {
    this.#pieces = [];
    this.#bytes = 0;
    this.#dropping = this.#remaining > 0;
    return reason;
  }
}
