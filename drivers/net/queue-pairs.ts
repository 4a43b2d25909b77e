// The receive/transmit queue pairs of one virtio-net device between probe and reset
// (VIRTIO 1.2 §5.1.2: receiveqN is queue 2(N-1), transmitqN 2(N-1)+1). Every receive queue
// is kept full and read; frames go out on transmitq1 until the device acknowledged
// VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (§5.1.6.5.5, `useAll`), then spread over the pairs by
// flow (flow-hash.ts). Sums over the queues for NetDevice and its transmit watchdog.

import type { VirtioDevice } from "../virtio/device.js";
import type { BufferLayout } from "./buffer-layout.js";
import { flowHash } from "./flow-hash.js";
import type { NetCounters } from "./net-types.js";
import { NetRxQueue } from "./rx-queue.js";
import { NetTxQueue } from "./tx-queue.js";

export interface QueuePairsOptions {
  readonly layout: BufferLayout;
  /** Pairs to set up. */
  readonly pairs: number;
  /** Receive buffers and transmit slots wanted per queue. */
  readonly rxBuffers: number;
  readonly txSlots: number;
  /** Largest frame received with mergeable buffers, null without them. */
  readonly mergedMaxFrame: number | null;
  readonly stats: NetCounters;
  readonly report: (error: Error) => void;
  /** A receive queue's used-buffer callback. */
  readonly onRxUsed: (rx: NetRxQueue) => void;
  /** A transmit queue's used-buffer callback. */
  readonly onTxUsed: () => void;
}

export class NetQueuePairs {
  readonly #rx: NetRxQueue[] = [];
  readonly #tx: NetTxQueue[] = [];
  /** Transmit queues in use: 1 until useAll() (§5.1.6.5.5). */
  #txPairs = 1;

  /** During probe (§3.1.1 step 7): the queues and their buffers, pair by pair (what was
   * set up before a throw stays here, for detach() to free). */
  setUp(device: VirtioDevice, options: QueuePairsOptions): void {
    const { layout } = options;
    // A power of two, at most 1024; twice the buffers with a split header (two descriptors each).
    const size = (n: number): number => Math.min(1024, 2 ** Math.ceil(Math.log2(n * (layout.splitHeader ? 2 : 1))));
    for (let p = 0; p < options.pairs; p++) {
      // §5.1.2: receiveqN is 2(N-1), transmitqN 2(N-1)+1
      const rx: NetRxQueue = new NetRxQueue(device, 2 * p, {
        layout, buffers: options.rxBuffers, size: size(options.rxBuffers),
        mergedMaxFrame: options.mergedMaxFrame, stats: options.stats, report: options.report, onUsed: () => options.onRxUsed(rx),
      });
      this.#rx.push(rx);
      this.#tx.push(new NetTxQueue(device, 2 * p + 1, { layout, slots: options.txSlots, size: size(options.txSlots), onUsed: options.onTxUsed }));
    }
    this.#txPairs = 1;
  }

  /** The receive queues, one per pair. */
  get rx(): readonly NetRxQueue[] {
    return this.#rx;
  }

  /** The transmit queues, one per pair. */
  get tx(): readonly NetTxQueue[] {
    return this.#tx;
  }

  /** Pairs set up (all of them are read). */
  get count(): number {
    return this.#rx.length;
  }

  /** Pairs frames are sent on now. */
  get txPairs(): number {
    return this.#txPairs;
  }

  /** The device took VQ_PAIRS_SET: send on every pair from now on. */
  useAll(): void {
    this.#txPairs = this.#rx.length;
  }

  /** The transmit queue for `frame`: transmitq1, or by flow over the pairs in use. */
  txFor(frame: Uint8Array): NetTxQueue {
    return this.#tx[this.#txPairs === 1 ? 0 : flowHash(frame) % this.#txPairs]!;
  }

  /** Transmit slots free now, over the transmit queues in use. */
  get writable(): number {
    let free = 0;
    for (let i = 0; i < this.#txPairs; i++) free += this.#tx[i]!.free;
    return free;
  }

  /** Receive buffers posted to the device now, over every receive queue. */
  get rxPosted(): number {
    return this.#rx.reduce((n, q) => n + q.posted, 0);
  }

  /** Frames the device holds now, over every transmit queue. */
  get txInFlight(): number {
    return this.#tx.reduce((n, q) => n + q.inFlight, 0);
  }

  /** Watchdog sweep: stamps frames seen out for the first time; the age (ms) of the oldest. */
  txAge(now: number): number {
    return this.#tx.reduce((age, q) => Math.max(age, q.stampAndAge(now)), 0);
  }

  /** Takes back what the device returned on every transmit queue; the count freed. Ring
   * errors are thrown. */
  reclaim(): number {
    let freed = 0;
    for (const tx of this.#tx) freed += tx.reclaim();
    return freed;
  }

  /** Frames received and sent on each pair since it was set up. */
  stats(): { rxFrames: number; txFrames: number }[] {
    return this.#rx.map((rx, i) => ({ rxFrames: rx.frames, txFrames: this.#tx[i]!.frames }));
  }

  /** The device was reset: every buffer is taken back and freed; the count of frames it
   * had not returned (sent or not: unknown). */
  detach(): number {
    for (const rx of this.#rx) rx.detach();
    let abandoned = 0;
    for (const tx of this.#tx) abandoned += tx.detach();
    this.#rx.length = 0;
    this.#tx.length = 0;
    this.#txPairs = 1;
    return abandoned;
  }
}
