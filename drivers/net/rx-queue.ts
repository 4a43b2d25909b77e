// One receive queue of a virtio-net device (VIRTIO 1.2 §5.1.6.3, §5.1.6.4), kept full:
// every buffer that comes back is checked, its frame copied out, and the buffer posted
// again at once, one kick per batch. The used length must be at least header + 14 and
// at most header + 1514 (the ring already refuses more than the buffer); with
// MRG_RXBUF a frame spans num_buffers buffers (rx-merge.ts). A bad frame is dropped,
// counted in rxBadLength and reported; its buffer goes back to the device.

import type { DmaBuffer, Platform } from "../../platform/platform.js";
import type { Completion, Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "../virtio/device.js";
import { drainQueue } from "../virtio/drain.js";
import { alignedBytes, copyBytes } from "../../net/bytes.js";
import { BUFFER_SIZE, receiveDataOffset, receiveRefs, type BufferLayout } from "./buffer-layout.js";
import { NetDeviceError } from "./errors.js";
import { ETH_HEADER_LEN, ETH_MAX_FRAME } from "./net-spec.js";
import type { NetCounters } from "./net-types.js";
import { RxMerger } from "./rx-merge.js";

interface RxSlot {
  readonly dma: DmaBuffer;
}

export interface RxQueueOptions {
  readonly layout: BufferLayout;
  /** Buffers wanted (capped by the queue size). */
  readonly buffers: number;
  /** Ring size asked for. */
  readonly size: number;
  /** Largest frame taken: 1514, or 14 + mtu with mergeable buffers (null: not mergeable). */
  readonly mergedMaxFrame: number | null;
  readonly stats: NetCounters;
  readonly report: (error: Error) => void;
  /** Used buffers arrived (the interrupt): the owner drains. */
  readonly onUsed: () => void;
}

export class NetRxQueue {
  readonly #queue: Virtqueue<RxSlot>;
  readonly #platform: Platform;
  readonly #location: string;
  readonly #layout: BufferLayout;
  readonly #merger: RxMerger | null;
  readonly #stats: NetCounters;
  readonly #report: (error: Error) => void;
  #slots: RxSlot[] = [];
  /** Frames taken from this queue. */
  frames = 0;

  /** During probe (§3.1.1 step 7): the queue and its buffers (posted by start()). */
  constructor(device: VirtioDevice, index: number, options: RxQueueOptions) {
    this.#platform = device.platform;
    this.#location = device.location;
    this.#layout = options.layout;
    this.#stats = options.stats;
    this.#report = options.report;
    const h = options.layout.headerLen;
    this.#merger = options.mergedMaxFrame === null ? null : new RxMerger(h, options.mergedMaxFrame, h + ETH_MAX_FRAME);
    // A buffer's chain (header and frame apart on legacy, §5.1.6.6) must fit the queue,
    // indirect or not (§2.7.5.3.1): a smaller one fails the device at every init.
    const least = { minSize: options.layout.splitHeader ? 2 : 1, minSizeFor: "descriptors of one frame's chain (header, frame)" };
    this.#queue = device.createQueue<RxSlot>(index, { size: options.size, ...least, onUsed: options.onUsed });
    const count = Math.max(1, Math.min(options.buffers, Math.floor(this.#queue.size / options.layout.descriptorsPerBuffer)));
    for (let i = 0; i < count; i++) this.#slots.push({ dma: this.#platform.dma.alloc(BUFFER_SIZE, 16) });
  }

  /** Buffers posted to the device now. */
  get posted(): number {
    return this.#queue.inFlight;
  }

  /** After DRIVER_OK: every buffer posted, one kick (§5.1.5 "fill the receive queues"). */
  start(): void {
    for (const slot of this.#slots) this.#queue.add([], receiveRefs(this.#layout, slot.dma), slot);
    this.#queue.kick();
  }

  /** Takes every used buffer: good frames go into `frames`; with `repost` each buffer
   * goes back to the device, one kick at the end. Ring errors are thrown. */
  drain(frames: Uint8Array[], repost: boolean): void {
    const queue = this.#queue;
    drainQueue(queue, (completion) => {
      const frame = this.#take(completion);
      if (frame !== null) frames.push(frame);
      if (repost) queue.add([], receiveRefs(this.#layout, completion.token.dma), completion.token);
    });
    if (repost) queue.kick();
  }

  /** The device was reset: every buffer is taken back and freed. */
  detach(): void {
    this.#queue.detachAll();
    for (const slot of this.#slots) this.#platform.dma.free(slot.dma);
    this.#slots = [];
  }

  /** Checks the used length (§5.1.6.4: header, then the packet) and copies the frame out. */
  #take({ token, len }: Completion<RxSlot>): Uint8Array | null {
    if (this.#merger !== null) return this.#takeMerged(token, len);
    const h = this.#layout.headerLen;
    if (len < h + ETH_HEADER_LEN || len > h + ETH_MAX_FRAME) {
      this.#stats.rxBadLength++;
      this.#report(new NetDeviceError(this.#location, "receive length", len));
      return null;
    }
    const length = len - h;
    this.frames++;
    this.#stats.rxFrames++;
    this.#stats.rxBytes += length;
    const at = receiveDataOffset(this.#layout);
    const frame = alignedBytes(length, token.dma.bytes.byteOffset + at);
    copyBytes(frame, 0, token.dma.bytes.subarray(at, at + length));
    return frame;
  }

  /** §5.1.6.4 with MRG_RXBUF: one of the num_buffers buffers of a frame. */
  #takeMerged(token: RxSlot, len: number): Uint8Array | null {
    const result = this.#merger!.take(token.dma.bytes.subarray(0, len));
    if (result === null) return null;
    if (typeof result === "string") {
      this.#stats.rxBadLength++;
      this.#report(new NetDeviceError(this.#location, "merged receive buffers", result));
      return null;
    }
    this.frames++;
    this.#stats.rxFrames++;
    this.#stats.rxBytes += result.length;
    if (result.byteOffset % 4 === 2) return result;
    const frame = alignedBytes(result.length, 2); // the IP header on a word boundary
    copyBytes(frame, 0, result);
    return frame;
  }
}
