// A fixed-size byte ring: the send buffer (bytes from SND.UNA on) and the receive buffer
// (bytes from the reader's position to RCV.NXT, out-of-order data beyond). Allocated once
// per connection; copies go word-wise where the alignment allows (../bytes.ts).

import { copyBytes } from "../bytes.js";

export class ByteRing {
  readonly #buf: Uint8Array;
  #start = 0;
  #length = 0;

  constructor(capacity: number) {
    this.#buf = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.#buf.length;
  }

  /** Bytes held (in order). */
  get length(): number {
    return this.#length;
  }

  get free(): number {
    return this.#buf.length - this.#length;
  }

  /** Appends as much of `src` as fits; returns the bytes taken. */
  append(src: Uint8Array): number {
    const n = Math.min(src.length, this.free);
    this.#put(this.#length, src.subarray(0, n));
    this.#length += n;
    return n;
  }

  /** Writes `src` `distance` bytes past the end without taking it in (out-of-order data);
   * the caller keeps distance + src.length within `free`. */
  putBeyond(distance: number, src: Uint8Array): void {
    this.#put(this.#length + distance, src);
  }

  /** Takes in `n` bytes written beyond the end before (they are now in order). */
  extend(n: number): void {
    this.#length += n;
  }

  /** Copies `n` bytes starting `offset` bytes from the start to `out[at..]`. */
  copyOut(offset: number, n: number, out: Uint8Array, at: number): void {
    const cap = this.#buf.length;
    const from = (this.#start + offset) % cap;
    const first = Math.min(n, cap - from);
    copyBytes(out, at, this.#buf.subarray(from, from + first));
    if (first < n) copyBytes(out, at + first, this.#buf.subarray(0, n - first));
  }

  /** Drops `n` bytes from the start. `realign`: when it empties, start over at offset 0
   * (later copies stay word-aligned); never while bytes sit beyond the end (putBeyond). */
  consume(n: number, realign = true): void {
    this.#start = (this.#start + n) % this.#buf.length;
    this.#length -= n;
    if (this.#length === 0 && realign) this.#start = 0;
  }

  #put(offset: number, src: Uint8Array): void {
    const cap = this.#buf.length;
    const n = src.length;
    const to = (this.#start + offset) % cap;
    const first = Math.min(n, cap - to);
    copyBytes(this.#buf, to, src.subarray(0, first));
    if (first < n) copyBytes(this.#buf, 0, src.subarray(first));
  }
}
