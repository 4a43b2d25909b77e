// How a virtio-mmio device model serves its queues after a notification: on a later
// turn of the host scheduler (or inside the QueueNotify write, "sync"), optionally with
// driver notifications suppressed while it works (§2.7.10, as QEMU), and then, once per
// queue touched in that turn, the used buffer notification decision (§2.7.10, §2.7.14).
// Work queued before a reset is dropped: every step carries the reset epoch it began in.

import type { DeviceQueue } from "./device-queue.js";
import type { HostScheduler } from "./scheduler.js";

/** What serving needs from the register file around it. */
export interface QueueServiceContext {
  readonly scheduler: HostScheduler;
  /** Serve inside the notification instead of on a later turn. */
  readonly sync: boolean;
  /** Suppress driver notifications while the device processes a queue. */
  readonly suppress: boolean;
  /** The reset count: work begun before a reset is not carried out after it. */
  epoch(): number;
  /** True while the device runs normally (DRIVER_OK, not broken, not needing a reset). */
  serving(): boolean;
  /** The device model's turn on queue `index`. */
  process(index: number): void;
  /** Sends a used buffer notification for queue `index`. */
  usedBuffer(index: number): void;
}

export class MmioQueueService {
  readonly #queues: readonly DeviceQueue[];
  readonly #c: QueueServiceContext;
  readonly #scheduled = new Set<number>();
  readonly #needsFlush = new Set<number>();
  #flushQueued = false;

  constructor(queues: readonly DeviceQueue[], context: QueueServiceContext) {
    this.#queues = queues;
    this.#c = context;
  }

  /** A notification for live queue `index`. */
  notified(index: number): void {
    if (this.#c.sync) this.#runQueue(index, this.#c.epoch());
    else this.#scheduleQueue(index);
  }

  /** Status written 0: nothing scheduled or waiting for its notification decision. */
  reset(): void {
    this.#scheduled.clear();
    this.#needsFlush.clear();
  }

  #scheduleQueue(index: number): void {
    if (this.#scheduled.has(index)) return;
    this.#scheduled.add(index);
    const epoch = this.#c.epoch();
    this.#c.scheduler.defer(() => {
      if (epoch !== this.#c.epoch()) return;
      this.#scheduled.delete(index);
      this.#runQueue(index, epoch);
    });
  }

  #runQueue(index: number, epoch: number): void {
    const q = this.#queues[index]!;
    if (epoch !== this.#c.epoch() || !q.live || this.#c.serving() === false) return;
    const suppress = this.#c.suppress;
    if (suppress) q.setNotification(false);
    try {
      this.#c.process(index);
    } catch (error) {
      this.#c.scheduler.onError(error); // a device model bug: recorded, never thrown into the driver
    }
    if (suppress && q.live && this.#c.serving()) {
      q.setNotification(true);
      // Chains made available while notifications were off are served now (§2.7.10).
      if (q.available() > 0) this.#scheduleQueue(index);
    }
    this.queueFlush(index);
  }

  /** After the device's turn, decide the used buffer notification once per queue. */
  queueFlush(index: number): void {
    this.#needsFlush.add(index);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    const epoch = this.#c.epoch();
    queueMicrotask(() => {
      try {
        this.#flush(epoch);
      } catch (error) {
        this.#c.scheduler.onError(error);
      }
    });
  }

  /** Decides, once per queue touched in this turn, whether to interrupt (§2.7.10). */
  #flush(epoch: number): void {
    this.#flushQueued = false;
    if (epoch !== this.#c.epoch()) return;
    const queues = [...this.#needsFlush];
    this.#needsFlush.clear();
    for (const i of queues) {
      const q = this.#queues[i]!;
      if (q.live && q.needInterrupt()) {
        q.counters.interrupts++;
        this.#c.usedBuffer(i);
      }
    }
  }
}
