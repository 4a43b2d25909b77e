// Little-endian 9P message encoding: a writer that fills a caller's buffer (a request's
// DMA memory) and a reader that checks every field against the bytes the device wrote.
// Strings are len[2] + UTF-8 bytes.

import { HEADER_BYTES, QID_BYTES, type Qid } from "./ninep-spec.js";
import { NinepProtocolError } from "./errors.js";

import { utf8Decode, utf8Encode } from "../console/utf8.js";

export { utf8Decode };

/** UTF-8 bytes of a string (XS has no TextEncoder). */
export function utf8(text: string): Uint8Array {
  return utf8Encode(text);
}

/** Writes one message into `bytes` (from offset 0); `end()` fills in size and returns it. */
export class MessageWriter {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #at = HEADER_BYTES;

  constructor(bytes: Uint8Array, type: number, tag: number) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#room(HEADER_BYTES);
    this.#view.setUint8(4, type);
    this.#view.setUint16(5, tag, true);
  }

  #room(n: number): void {
    if (this.#at + n > this.#bytes.length) throw new RangeError(`9P message of more than ${this.#bytes.length} bytes (msize)`);
  }

  u8(v: number): this {
    this.#room(1);
    this.#view.setUint8(this.#at, v);
    this.#at += 1;
    return this;
  }

  u16(v: number): this {
    this.#room(2);
    this.#view.setUint16(this.#at, v, true);
    this.#at += 2;
    return this;
  }

  u32(v: number): this {
    this.#room(4);
    this.#view.setUint32(this.#at, v >>> 0, true);
    this.#at += 4;
    return this;
  }

  u64(v: number | bigint): this {
    this.#room(8);
    this.#view.setBigUint64(this.#at, BigInt(v), true);
    this.#at += 8;
    return this;
  }

  str(text: string): this {
    const b = utf8(text);
    if (b.length > 0xffff) throw new RangeError(`9P string of ${b.length} bytes (at most 65535)`);
    this.u16(b.length);
    return this.raw(b);
  }

  raw(data: Uint8Array): this {
    this.#room(data.length);
    this.#bytes.set(data, this.#at);
    this.#at += data.length;
    return this;
  }

  /** Sets size[4] and returns the message length. */
  end(): number {
    this.#view.setUint32(0, this.#at, true);
    return this.#at;
  }
}

/** Reads the body of a reply that `length` bytes long; every read is bounds-checked. */
export class MessageReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #end: number;
  readonly #what: string;
  #at: number;

  constructor(bytes: Uint8Array, length: number, what: string, start = HEADER_BYTES) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#end = length;
    this.#what = what;
    this.#at = start;
  }

  get remaining(): number {
    return this.#end - this.#at;
  }

  #take(n: number): number {
    if (this.#at + n > this.#end) {
      throw new NinepProtocolError("short-reply", `${this.#what}: reply of ${this.#end} bytes ends inside a field (needs ${this.#at + n})`, { length: this.#end, needed: this.#at + n });
    }
    const at = this.#at;
    this.#at += n;
    return at;
  }

  u8(): number {
    return this.#view.getUint8(this.#take(1));
  }

  u16(): number {
    return this.#view.getUint16(this.#take(2), true);
  }

  u32(): number {
    return this.#view.getUint32(this.#take(4), true);
  }

  /** A 64-bit field as a number (exact up to 2^53; file sizes and offsets). */
  u64(): number {
    return Number(this.#view.getBigUint64(this.#take(8), true));
  }

  big64(): bigint {
    return this.#view.getBigUint64(this.#take(8), true);
  }

  str(): string {
    const n = this.u16();
    return utf8Decode(this.bytes(n));
  }

  /** A view (not a copy) of the next `n` bytes. */
  bytes(n: number): Uint8Array {
    const at = this.#take(n);
    return this.#bytes.subarray(at, at + n);
  }

  qid(): Qid {
    this.#take(0);
    if (this.remaining < QID_BYTES) this.#take(QID_BYTES);
    return { type: this.u8(), version: this.u32(), path: this.big64() };
  }

  skip(n: number): void {
    this.#take(n);
  }
}
