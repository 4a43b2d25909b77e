// The MSI-X table and PBA of a modeled function (PCI Local Bus 3.0 §6.8.2): 16-byte
// entries (address low/high, data, vector control bit 0 = masked), a pending bit per
// vector. A message to a masked vector (or with the function masked) sets its pending
// bit and is sent when unmasked. Messages are 32-bit writes of `data` to `address`.

import type { MmioWidth } from "../mmio-bus.js";

export const MSIX_ENTRY = 16;
export const MSIX_PBA_OFFSET = 0x800;
export const NO_VECTOR = 0xffff;

export class MsixModel {
  readonly vectors: number;
  readonly #table: Uint32Array;
  readonly #pending: boolean[];
  readonly #send: (address: number, data: number) => void;
  readonly #report: (rule: string, message: string) => void;
  enabled = false;
  functionMasked = false;
  /** Messages sent, for tests. */
  sent = 0;

  constructor(vectors: number, send: (address: number, data: number) => void, report: (rule: string, message: string) => void) {
    this.vectors = vectors;
    this.#table = new Uint32Array(vectors * 4);
    for (let v = 0; v < vectors; v++) this.#table[v * 4 + 3] = 1; // masked at reset
    this.#pending = new Array<boolean>(vectors).fill(false);
    this.#send = send;
    this.#report = report;
  }

  read(offset: number, width: MmioWidth): number {
    if (width !== 4 || offset % 4 !== 0) {
      this.#report("msix-access-width", `${width * 8}-bit MSI-X access at 0x${offset.toString(16)}: table and PBA take aligned 32-bit accesses`);
      return 0;
    }
    if (offset >= MSIX_PBA_OFFSET) {
      const word = (offset - MSIX_PBA_OFFSET) / 4;
      let bits = 0;
      for (let i = 0; i < 32; i++) if (this.#pending[word * 32 + i]) bits |= 1 << i;
      return bits >>> 0;
    }
    return this.#table[offset / 4] ?? 0;
  }

  write(offset: number, width: MmioWidth, value: number): void {
    if (width !== 4 || offset % 4 !== 0 || offset >= this.vectors * MSIX_ENTRY) {
      this.#report("msix-access-width", `${width * 8}-bit MSI-X write at 0x${offset.toString(16)} outside the table's aligned 32-bit words`);
      return;
    }
    const vector = Math.floor(offset / MSIX_ENTRY);
    if (offset % MSIX_ENTRY !== 12 && this.enabled && !this.functionMasked && !(this.#table[vector * 4 + 3]! & 1)) {
      this.#report("msix-entry-changed-unmasked", `MSI-X entry ${vector} address/data written while the vector is live and unmasked (§6.8.2.9)`);
    }
    this.#table[offset / 4] = value >>> 0;
    this.unmasked();
  }

  /** After a mask bit cleared: send what became deliverable. */
  unmasked(): void {
    for (let v = 0; v < this.vectors; v++) if (this.#pending[v]) this.signal(v);
  }

  /** Sends (or holds pending) the message of `vector`. */
  signal(vector: number): void {
    if (vector === NO_VECTOR || vector >= this.vectors) return; // the driver chose no vector
    if (this.functionMasked || this.#table[vector * 4 + 3]! & 1) {
      this.#pending[vector] = true;
      return;
    }
    this.#pending[vector] = false;
    const address = this.#table[vector * 4]! + this.#table[vector * 4 + 1]! * 2 ** 32;
    this.sent++;
    this.#send(address, this.#table[vector * 4 + 2]!);
  }
}
