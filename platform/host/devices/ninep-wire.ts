// 9P wire encoding for the host model (kept apart from the driver's codec so the two
// do not share a mistake): a bounds-checked request reader and a growable reply.

import type { TreeNode } from "./ninep-tree.js";

export class MalformedMessage extends Error {}

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

export class NinepRequestReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #at = 7;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #take(n: number): number {
    if (this.#at + n > this.#bytes.length) throw new MalformedMessage(`field at ${this.#at} of ${n} bytes past the end (${this.#bytes.length})`);
    const at = this.#at;
    this.#at += n;
    return at;
  }

  u16(): number {
    return this.#view.getUint16(this.#take(2), true);
  }

  u32(): number {
    return this.#view.getUint32(this.#take(4), true);
  }

  u64(): bigint {
    return this.#view.getBigUint64(this.#take(8), true);
  }

  str(): string {
    const n = this.u16();
    const at = this.#take(n);
    try {
      return decoder.decode(this.#bytes.subarray(at, at + n));
    } catch {
      throw new MalformedMessage(`string at ${at} is not UTF-8`);
    }
  }

  rest(): Uint8Array {
    return this.#bytes.slice(this.#at);
  }
}

export class NinepReply {
  #bytes = new Uint8Array(64);
  #view = new DataView(this.#bytes.buffer);
  #length = 7;
  #type: number;
  readonly #tag: number;

  constructor(type: number, tag: number) {
    this.#type = type;
    this.#tag = tag;
  }

  /** Bytes of body so far. */
  get length(): number {
    return this.#length - 7;
  }

  #grow(n: number): number {
    while (this.#length + n > this.#bytes.length) {
      const bigger = new Uint8Array(this.#bytes.length * 2);
      bigger.set(this.#bytes);
      this.#bytes = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    const at = this.#length;
    this.#length += n;
    return at;
  }

  u8(v: number): this {
    const at = this.#grow(1);
    this.#view.setUint8(at, v);
    return this;
  }

  u16(v: number): this {
    const at = this.#grow(2);
    this.#view.setUint16(at, v, true);
    return this;
  }

  u32(v: number): this {
    const at = this.#grow(4);
    this.#view.setUint32(at, v, true);
    return this;
  }

  u64(v: bigint): this {
    const at = this.#grow(8);
    this.#view.setBigUint64(at, v, true);
    return this;
  }

  str(s: string): this {
    const b = encoder.encode(s);
    return this.u16(b.length).raw(b);
  }

  raw(b: Uint8Array): this {
    const at = this.#grow(b.length);
    this.#bytes.set(b, at);
    return this;
  }

  qid(node: TreeNode): this {
    return this.u8(node.children ? 0x80 : 0).u32(node.version).u64(node.path);
  }

  /** Replaces the body with Rlerror ecode. */
  error(errno: number): this {
    this.#type = 7;
    this.#length = 7;
    return this.u32(errno);
  }

  body(): Uint8Array {
    return this.#bytes.slice(7, this.#length);
  }

  finish(): Uint8Array {
    this.#view.setUint32(0, this.#length, true);
    this.#view.setUint8(4, this.#type);
    this.#view.setUint16(5, this.#tag, true);
    return this.#bytes.slice(0, this.#length);
  }
}
