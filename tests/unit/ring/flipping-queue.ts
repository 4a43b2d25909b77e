// A Virtqueue stub for a hostile device whose used idx flips between two reads: pop()
// sees nothing new, the re-check in enableInterrupts() sees an entry, for ever. Counts
// the calls so a test can tell the drain loops stopped.

import type { BufferRef, Completion, Virtqueue, VirtqueueStats } from "../../../ring/virtqueue.js";

export class FlippingQueue<T> implements Virtqueue<T> {
  readonly index = 0;
  readonly size = 8;
  readonly addresses = { size: 8, desc: 0x1000, driver: 0x2000, device: 0x3000 };
  readonly freeCount = 8;
  readonly inFlight = 0;
  readonly broken = null;
  pops = 0;
  rechecks = 0;
  /** Completions pop() hands out before it starts finding nothing. */
  readonly ready: Completion<T>[] = [];

  add(_r: readonly BufferRef[], _w: readonly BufferRef[], _token: T): void {}
  kick(): boolean {
    return false;
  }
  pop(): Completion<T> | null {
    this.pops++;
    if (this.pops > 10_000) throw new Error("pop() called without bound");
    return this.ready.shift() ?? null;
  }
  enableInterrupts(): boolean {
    this.rechecks++;
    return true; // "used idx moved meanwhile": the lie
  }
  disableInterrupts(): void {}
  stats(): VirtqueueStats {
    return { added: 0, completed: 0, kicks: 0, notifications: 0 };
  }
  detachAll(): T[] {
    return [];
  }
  destroy(): void {}
}
