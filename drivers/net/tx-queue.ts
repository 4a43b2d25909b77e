// One transmit queue of a virtio-net device (VIRTIO 1.2 §5.1.6.2) with a fixed set of
// slots: a frame takes one, the slot is free again when the device returns it. Nothing
// queues without bound: with every slot in flight send() says no (the caller throws
// NetQueueFullError). For the transmit watchdog each slot in flight carries the time a
// sweep first saw it out (stampAndAge): no clock read and no timer per frame.

import type { DmaBuffer, Platform } from "../../platform/platform.js";
import type { Completion, Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "../virtio/device.js";
import { drainQueue } from "../virtio/drain.js";
import { BUFFER_SIZE, transmitRefs, type BufferLayout } from "./buffer-layout.js";

interface TxSlot {
  readonly dma: DmaBuffer;
  readonly index: number;
}

export interface TxQueueOptions {
  readonly layout: BufferLayout;
  /** Slots wanted (capped by the queue size). */
  readonly slots: number;
  /** Ring size asked for. */
  readonly size: number;
  /** Used buffers arrived (the interrupt): the owner reclaims. */
  readonly onUsed: () => void;
}

export class NetTxQueue {
  readonly #queue: Virtqueue<TxSlot>;
  readonly #platform: Platform;
  readonly #layout: BufferLayout;
  #slots: TxSlot[] = [];
  /** Frames sent on this queue. */
  frames = 0;
  #free: TxSlot[] = [];
  /** Per slot: 1 while the device holds it. */
  readonly #out: Uint8Array;
  /** Per slot: when a watchdog sweep first saw it out (0: not seen yet). */
  readonly #seenAt: Float64Array;
  readonly #take = ({ token }: Completion<TxSlot>): void => {
    this.#out[token.index] = 0;
    this.#seenAt[token.index] = 0;
    this.#free.push(token);
  };

  constructor(device: VirtioDevice, index: number, options: TxQueueOptions) {
    this.#platform = device.platform;
    this.#layout = options.layout;
    // A frame's chain (header and frame apart on legacy, §5.1.6.6) must fit the queue (§2.7.5.3.1).
    const least = { minSize: options.layout.splitHeader ? 2 : 1, minSizeFor: "descriptors of one frame's chain (header, frame)" };
    this.#queue = device.createQueue<TxSlot>(index, { size: options.size, ...least, onUsed: options.onUsed });
    const count = Math.max(1, Math.min(options.slots, Math.floor(this.#queue.size / options.layout.descriptorsPerBuffer)));
    for (let i = 0; i < count; i++) this.#slots.push({ dma: this.#platform.dma.alloc(BUFFER_SIZE, 16), index: i });
    this.#free = [...this.#slots];
    this.#out = new Uint8Array(count);
    this.#seenAt = new Float64Array(count);
  }

  /** Slots in all. */
  get slots(): number {
    return this.#slots.length;
  }

  /** Slots free now. */
  get free(): number {
    return this.#free.length;
  }

  /** Frames the device holds now. */
  get inFlight(): number {
    return this.#slots.length - this.#free.length;
  }

  /** Copies the frame into a free slot (reclaiming first if none is free) and kicks;
   * false when every slot is in flight. Ring errors are thrown (the slot stays free). */
  send(frame: Uint8Array): boolean {
    if (this.#free.length === 0) this.reclaim();
    const slot = this.#free.pop();
    if (slot === undefined) return false;
    const refs = transmitRefs(this.#layout, slot.dma, frame);
    try {
      this.#queue.add(refs, [], slot);
      this.#queue.kick();
    } catch (error) {
      this.#free.push(slot);
      throw error;
    }
    this.#out[slot.index] = 1;
    this.frames++;
    return true;
  }

  /** Takes back what the device returned; the count freed. Ring errors are thrown. */
  reclaim(): number {
    // The ring already checked len ≤ the chain's writable bytes (0 on transmit).
    return drainQueue(this.#queue, this.#take);
  }

  /** Watchdog sweep: stamps slots seen out for the first time with `now`, and returns
   * how long (ms) the oldest slot in flight has been seen out (0 when none). */
  stampAndAge(now: number): number {
    let oldest = now;
    for (let i = 0; i < this.#out.length; i++) {
      if (this.#out[i] === 0) continue;
      if (this.#seenAt[i] === 0) this.#seenAt[i] = now;
      else if (this.#seenAt[i]! < oldest) oldest = this.#seenAt[i]!;
    }
    return now - oldest;
  }

  /** The device was reset: every slot is taken back and freed; the count of frames it
   * had not returned (sent or not: unknown). */
  detach(): number {
    const abandoned = this.#queue.detachAll().length;
    for (const slot of this.#slots) this.#platform.dma.free(slot.dma);
    this.#slots = [];
    this.#free = [];
    this.#out.fill(0);
    return abandoned;
  }
}
