// The device's check of VIRTIO 1.2 §2.7.13.3.1: the driver MUST perform a write barrier
// before the avail idx update. At each notification, if a queue's avail idx moved since
// the last one (or since the queue went live), at least one write barrier must have run.

import type { DeviceQueue } from "./device-queue.js";
import type { PhysicalMemory } from "./memory.js";
import type { RuleReporter } from "./negotiation-rules.js";

export class WriteBarrierCheck {
  readonly #memory: PhysicalMemory;
  /** The platform's write-barrier count; without it nothing is checked. */
  readonly #count: (() => number) | undefined;
  readonly #violation: RuleReporter;
  /** Per queue: avail idx and write-barrier count at set-up / the last notification. */
  readonly #seen = new Map<number, { idx: number; wmb: number }>();

  constructor(memory: PhysicalMemory, count: (() => number) | undefined, violation: RuleReporter) {
    this.#memory = memory;
    this.#count = count;
    this.#violation = violation;
  }

  /** Queue `index` went live: its avail idx starts at 0. */
  armed(index: number): void {
    this.#seen.set(index, { idx: 0, wmb: this.#count?.() ?? 0 });
  }

  /** A notification for `q`. */
  check(q: DeviceQueue): void {
    const count = this.#count;
    const l = q.layout;
    if (!count || !l) return;
    const idx = this.#memory.read16(l.avail + 2); // avail.idx, 16-bit
    const wmb = count();
    const last = this.#seen.get(q.index);
    this.#seen.set(q.index, { idx, wmb });
    if (last && idx !== last.idx && wmb === last.wmb) {
      this.#violation("missing-wmb", `queue ${q.index}: avail idx moved to ${idx} with no write barrier since the last notification or queue set-up (§2.7.13.3.1)`);
    }
  }
}
