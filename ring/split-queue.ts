// The split virtqueue, driver side (VIRTIO 1.2 §2.7), as the Virtqueue class the core and
// the drivers use. The ring itself (its state, checks and every spec rule) is in
// split-ring.ts, as closures: this class only forwards to them. A driver's per-request
// path takes the closures themselves (hotPath()) and skips the forwarding.

import type { QueueAddresses } from "../drivers/virtio/transport.js";
import type { BufferRef, Completion, FixedChainQueue, ReservedHotPath, VirtqueueOptions, VirtqueueStats } from "./virtqueue.js";
import { createSplitRing, type SplitRing } from "./split-ring.js";

export { MAX_QUEUE_SIZE } from "./split-ring.js";

export class SplitQueue<T> implements FixedChainQueue<T> {
  readonly index: number;
  readonly size: number;
  readonly addresses: QueueAddresses;
  readonly #ring: SplitRing<T>;

  constructor(options: VirtqueueOptions) {
    this.#ring = createSplitRing<T>(options);
    this.index = options.index;
    this.size = options.size;
    this.addresses = this.#ring.addresses;
  }

  get freeCount(): number {
    return this.#ring.freeCount();
  }

  get inFlight(): number {
    return this.#ring.inFlight();
  }

  get broken(): Error | null {
    return this.#ring.broken();
  }

  /** Chains added and not yet published by kick(). */
  get pendingCount(): number {
    return this.#ring.pendingCount();
  }

  /** The used length of the entry take() (or pop()) returned last. */
  get takenLength(): number {
    return this.#ring.takenLength();
  }

  hotPath(): ReservedHotPath<T> {
    return this.#ring;
  }

  add(readable: readonly BufferRef[], writable: readonly BufferRef[], token: T): void {
    this.#ring.add(readable, writable, token);
  }

  reserveChain(count: number): number {
    return this.#ring.reserveChain(count);
  }

  reserveChainOf(readable: readonly BufferRef[], writable: readonly BufferRef[]): number {
    return this.#ring.reserveChainOf(readable, writable);
  }

  setChainBuffer(head: number, k: number, phys: number, len: number, writable: boolean): void {
    this.#ring.setChainBuffer(head, k, phys, len, writable);
  }

  addReserved(head: number, token: T): void {
    this.#ring.addReserved(head, token);
  }

  postReserved(head: number, phys: number, len: number, writable: boolean, token: T): void {
    this.#ring.postReserved(head, phys, len, writable, token);
  }

  tryPostReserved(head: number, phys: number, len: number, writable: boolean, token: T): Error | null {
    return this.#ring.tryPostReserved(head, phys, len, writable, token);
  }

  hasUsed(): boolean {
    return this.#ring.hasUsed();
  }

  kick(): boolean {
    return this.#ring.kick();
  }

  pop(): Completion<T> | null {
    return this.#ring.pop();
  }

  take(): T | undefined {
    return this.#ring.take();
  }

  enableInterrupts(): boolean {
    return this.#ring.enableInterrupts();
  }

  disableInterrupts(): void {
    this.#ring.disableInterrupts();
  }

  stats(): VirtqueueStats {
    return this.#ring.stats();
  }

  detachAll(): T[] {
    return this.#ring.detachAll();
  }

  destroy(): void {
    this.#ring.destroy();
  }
}
