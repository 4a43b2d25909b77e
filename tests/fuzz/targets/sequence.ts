// The order oracle shared by the stream-like targets (net frames, input events): what
// the receiving side got must be items the sending side sent, in the order it sent
// them, each whole (or, where a device lied about its length, a prefix of one). Items
// may be missing (a reset drops what was in flight), never invented, reordered or changed.

import type { World } from "../world.js";

export class Sequence {
  readonly #w: World;
  readonly #what: string;
  readonly #sent = new Map<number, { readonly index: number; readonly bytes: Uint8Array }>();
  #next = 0;
  #last = -1;
  /** Items received (that matched). */
  received = 0;

  constructor(w: World, what: string) {
    this.#w = w;
    this.#what = what;
  }

  readonly #untagged: Uint8Array[] = [];

  /** Records an item sent with tag `tag` (null: too short to carry one). Record it
   * before the call that sends it: a device may take it inside the call. */
  sent(tag: number | null, bytes: Uint8Array): void {
    if (tag === null) this.#untagged.push(bytes.slice());
    else this.#sent.set(tag, { index: this.#next++, bytes: bytes.slice() });
  }

  /** The call refused the item after all: it was never sent. */
  unsend(tag: number | null): void {
    if (tag === null) this.#untagged.pop();
    else this.#sent.delete(tag);
  }

  /** Checks an item received; `prefixOk`: a shorter copy is allowed (a length lie). */
  got(tag: number | null, bytes: Uint8Array, prefixOk = false): void {
    const item = tag === null ? undefined : this.#sent.get(tag);
    if (tag === null) {
      const at = this.#untagged.findIndex((u) => Buffer.compare(u, bytes) === 0);
      if (at >= 0) {
        this.#untagged.splice(at, 1);
        this.received++;
        return;
      }
    }
    if (!item) {
      if (prefixOk) return; // too short to carry its tag: a length lie
      return this.#w.report("data-mismatch", `${this.#what}: received ${bytes.length} bytes that were never sent (tag ${tag})`);
    }
    if (item.index <= this.#last) {
      // Under a length lie the "tag" may be stale bytes past a short frame: not evidence.
      if (prefixOk) return;
      return this.#w.report("data-mismatch", `${this.#what}: item ${item.index} received after item ${this.#last} (reordered or twice)`);
    }
    this.#last = item.index;
    const same = bytes.length === item.bytes.length && Buffer.compare(bytes, item.bytes) === 0;
    // A length lie cuts the item short, or claims more bytes than it carries.
    const n = Math.min(bytes.length, item.bytes.length);
    const prefix = prefixOk && Buffer.compare(bytes.subarray(0, n), item.bytes.subarray(0, n)) === 0;
    if (!same && !prefix) this.#w.report("data-mismatch", `${this.#what}: item ${item.index} received with other bytes (${bytes.length} of ${item.bytes.length})`);
    this.received++;
  }
}
