// RequestQueue: promises over a virtqueue, for device drivers. submit() makes a chain
// available and resolves with the bytes the device wrote once the used entry comes back
// (validated by the queue); onInterrupt() drains the used ring from the event loop. When
// the ring is full, requests wait in order and go out as completions free descriptors.
// Nothing here throws into the event loop: failures reject the promises concerned.

import type { BufferRef, Virtqueue } from "./virtqueue.js";
import { QueueFullError } from "./errors.js";

/**
 * Re-checks in a row (enableInterrupts() saying "more") after which pop() found nothing.
 * used idx only moves forward on a sane device, so a pop after such a re-check finds an
 * entry; a device flipping used idx between the two reads must not keep onInterrupt()
 * (and the event loop) spinning for ever.
 */
export const MAX_EMPTY_RECHECKS = 2;

/** The token a RequestQueue puts on each chain: how to settle its promise. */
export interface PendingRequest {
  resolve(len: number): void;
  reject(error: Error): void;
}

interface Waiting {
  readonly readable: readonly BufferRef[];
  readonly writable: readonly BufferRef[];
  readonly request: PendingRequest;
}

export interface RequestQueueStats {
  /** Chains on the ring, not yet returned by the device. */
  readonly inFlight: number;
  /** Requests waiting for free descriptors. */
  readonly waiting: number;
  /** Requests resolved so far. */
  readonly resolved: number;
  /** Requests rejected so far. */
  readonly rejected: number;
}

export class RequestQueue {
  readonly #queue: Virtqueue<PendingRequest>;
  readonly #inFlight = new Set<PendingRequest>();
  #waiting: Waiting[] = [];
  #failure: Error | null = null;
  #resolved = 0;
  #rejected = 0;

  constructor(queue: Virtqueue<PendingRequest>) {
    this.#queue = queue;
  }

  get queue(): Virtqueue<PendingRequest> {
    return this.#queue;
  }

  /** The error that stopped this queue (the ring broke, or it was detached), if any. */
  get failure(): Error | null {
    return this.#failure;
  }

  stats(): RequestQueueStats {
    return { inFlight: this.#inFlight.size, waiting: this.#waiting.length, resolved: this.#resolved, rejected: this.#rejected };
  }

  /** Adds one chain and notifies the device (subject to suppression). */
  submit(readable: readonly BufferRef[], writable: readonly BufferRef[]): Promise<number> {
    const p = this.enqueue(readable, writable);
    this.flush();
    return p;
  }

  /**
   * Adds one chain without notifying: call flush() after a batch. `onRequest`, if given,
   * receives the request's handle at once (e.g. for a deadline that rejects it: a later
   * completion of the chain is then ignored), so callers need no promise of their own.
   */
  enqueue(readable: readonly BufferRef[], writable: readonly BufferRef[], onRequest?: (request: PendingRequest) => void): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const request = this.#track(resolve, reject);
      if (onRequest !== undefined) onRequest(request);
      if (this.#failure) return request.reject(this.#failure);
      if (this.#waiting.length > 0) {
        this.#waiting.push({ readable, writable, request });
        return;
      }
      this.#place({ readable, writable, request });
    });
  }

  /** Publishes what was enqueued and notifies the device if it wants it. */
  flush(): boolean {
    if (this.#failure) return false;
    try {
      return this.#queue.kick();
    } catch (e) {
      this.#fail(asError(e));
      return false;
    }
  }

  /**
   * The queue's part of the interrupt handler: takes every used entry, settles its promise,
   * moves waiting requests onto the freed descriptors, and re-enables interrupts with the
   * re-check of §2.7.14 (no lost wakeup). Returns how many requests completed.
   */
  onInterrupt(): number {
    if (this.#failure) return 0;
    let count = 0;
    let placed = false;
    let emptyRechecks = 0;
    try {
      this.#queue.disableInterrupts();
      for (;;) {
        const before = count;
        for (let c = this.#queue.pop(); c !== null; c = this.#queue.pop()) {
          this.#inFlight.delete(c.token);
          c.token.resolve(c.len);
          count++;
        }
        emptyRechecks = count === before ? emptyRechecks + 1 : 0;
        if (this.#refill()) placed = true;
        if (!this.#queue.enableInterrupts()) break;
        // Bounded work per interrupt: pops are bounded by the chains in flight, rounds
        // that find nothing by MAX_EMPTY_RECHECKS (interrupts stay enabled).
        if (emptyRechecks >= MAX_EMPTY_RECHECKS) break;
        this.#queue.disableInterrupts();
      }
      if (placed) this.#queue.kick();
    } catch (e) {
      this.#fail(asError(e));
    }
    return count;
  }

  /**
   * Rejects every request, in flight or waiting, with `reason`, and takes the chains back
   * from the ring (queue.detachAll()). For a device reset or a driver removal.
   */
  detachAll(reason: Error): void {
    for (const token of this.#queue.detachAll()) token.reject(reason);
    this.#fail(reason);
  }

  #track(resolve: (len: number) => void, reject: (e: Error) => void): PendingRequest {
    let settled = false;
    const request: PendingRequest = {
      resolve: (len) => {
        if (settled) return;
        settled = true;
        this.#resolved++;
        resolve(len);
      },
      reject: (e) => {
        if (settled) return;
        settled = true;
        this.#inFlight.delete(request);
        this.#rejected++;
        reject(e);
      },
    };
    return request;
  }

  /** Puts a request on the ring, or in the waiting line if the ring is full. */
  #place(w: Waiting): boolean {
    try {
      this.#queue.add(w.readable, w.writable, w.request);
      this.#inFlight.add(w.request);
      return true;
    } catch (e) {
      if (e instanceof QueueFullError && this.#queue.inFlight > 0) {
        this.#waiting.unshift(w);
        return false;
      }
      if (e === this.#queue.broken) this.#fail(e as Error);
      w.request.reject(asError(e));
      return true;
    }
  }

  /** Moves waiting requests onto the ring while it has room; true if any went. */
  #refill(): boolean {
    let placed = false;
    while (this.#waiting.length > 0 && !this.#failure) {
      const w = this.#waiting.shift()!;
      if (!this.#place(w)) break;
      placed = true;
    }
    return placed;
  }

  #fail(error: Error): void {
    if (!this.#failure) this.#failure = error;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w.request.reject(error);
    for (const r of [...this.#inFlight]) r.reject(error);
    this.#inFlight.clear();
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
