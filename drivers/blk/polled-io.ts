// Synchronous block I/O by polling the used ring, as U-Boot's virtio-blk does, for callers
// whose API is synchronous (ECMA-419 flash, flash-storage.ts). One request at a time on a
// slot of the block queue (its header and status byte) with a DMA data area of its own
// (§5.2.6): the chain is made available and kicked, then the queue is drained
// (BlockDevice.onUsed, the same path an interrupt takes) until the request is back or the
// deadline passes. Needs a device that
// completes without the event loop running: QEMU does (its I/O threads write the used
// ring while the vCPU spins); the host model does with `processing: "sync"`.
// Same checks as the asynchronous path: used length covers the data and the status
// byte, status OK. A request that times out leaves its memory with the device (never
// freed, never reused: the area is replaced) until a reset gives it back.

import type { DmaBuffer, Platform } from "../../platform/platform.js";
import { RequestTimeoutError } from "../virtio/errors.js";
import type { BlkQueue } from "./blk-queue.js";
import type { BlockDevice } from "./block-device.js";
import { BlkRequestType, SECTOR_SIZE } from "./blk-spec.js";

export interface PolledIoOptions {
  /** Largest data transfer of one request, in bytes (a multiple of 512). Default 65536. */
  readonly maxRequestBytes?: number;
  /** Longest wait for one request, in ms. Default 10000. */
  readonly timeoutMs?: number;
}

/** One request in flight, settled by the queue's drain through its token. */
interface Outcome {
  len: number;
  error: Error | null;
  done: boolean;
  /** Timed out: the area is the device's; whoever settles the token later frees it. */
  orphaned: boolean;
}

export class PolledBlockIo {
  readonly #device: BlockDevice;
  readonly #platform: Platform;
  readonly #maxBytes: number;
  readonly #timeoutMs: number;
  #area: DmaBuffer | null = null;

  constructor(device: BlockDevice, platform: Platform, options: PolledIoOptions = {}) {
    const maxBytes = options.maxRequestBytes ?? 65536;
    const timeoutMs = options.timeoutMs ?? 10000;
    if (!Number.isInteger(maxBytes) || maxBytes < SECTOR_SIZE || maxBytes % SECTOR_SIZE !== 0) throw new RangeError(`maxRequestBytes ${maxBytes} must be a positive multiple of ${SECTOR_SIZE}`);
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs ${timeoutMs} must be positive`);
    this.#device = device;
    this.#platform = platform;
    this.#maxBytes = maxBytes;
    this.#timeoutMs = timeoutMs;
  }

  /** Reads whole sectors from `lba` into `target` (a multiple of 512 bytes). */
  read(lba: number, target: Uint8Array): void {
    this.#device.check(lba, target.length / SECTOR_SIZE);
    for (let done = 0; done < target.length; done += this.#maxBytes) {
      const piece = target.subarray(done, Math.min(target.length, done + this.#maxBytes));
      const data = this.#run(BlkRequestType.IN, lba + done / SECTOR_SIZE, piece.length, null);
      piece.set(data);
    }
  }

  /** Writes whole sectors of `data` at `lba`. */
  write(lba: number, data: Uint8Array): void {
    this.#device.check(lba, data.length / SECTOR_SIZE, true);
    for (let done = 0; done < data.length; done += this.#maxBytes) {
      this.#run(BlkRequestType.OUT, lba + done / SECTOR_SIZE, 0, data.subarray(done, Math.min(data.length, done + this.#maxBytes)));
    }
  }

  /** FLUSH (§5.2.6): completed writes are durable after it. Without VIRTIO_BLK_F_FLUSH the
   * device is write-through and nothing is sent. */
  flush(): void {
    if (!this.#device.info.flush) return;
    this.#run(BlkRequestType.FLUSH, 0, 0, null);
  }

  /** Frees the DMA area (unless the device still holds it after a timeout). */
  close(): void {
    if (this.#area !== null) this.#platform.dma.free(this.#area);
    this.#area = null;
  }

  /** One request; returns the data area's first `readBytes` bytes (a read's data). */
  #run(type: number, sector: number, readBytes: number, out: Uint8Array | null): Uint8Array {
    const bq = this.#device.pollingQueue(); // the state checks every request makes
    const area = (this.#area ??= this.#platform.dma.alloc(this.#maxBytes, 64));
    const dataLength = out?.length ?? readBytes;
    if (out !== null) area.bytes.set(out);
    const data = { phys: area.phys, len: dataLength };
    const deadline = this.#platform.clock.now() + this.#timeoutMs;
    let slot = bq.take();
    while (slot < 0) {
      this.#device.onUsed(); // the async path's requests hold every slot: let them finish
      if (this.#platform.clock.now() >= deadline) throw new RequestTimeoutError(this.#device.location, this.#timeoutMs);
      slot = bq.take();
    }
    const outcome: Outcome = { len: 0, error: null, done: false, orphaned: false };
    const pool = this.#platform.dma;
    // §5.2.6: the queue adds header and status; data readable for OUT, writable for IN.
    const isRead = type === BlkRequestType.IN;
    bq.submit(slot, type, sector, out !== null ? [data] : [], isRead && dataLength > 0 ? [data] : [], isRead ? dataLength : 0, {
      settle: (error, len) => {
        outcome.len = len;
        outcome.error = error;
        outcome.done = true;
      },
      // After a timeout the area was the device's: back to the pool once it returned it.
      release: () => {
        if (outcome.orphaned) pool.free(area);
      },
    });
    bq.flush();
    while (!outcome.done) this.#poll(deadline, outcome, bq, slot);
    // The used length (data and status byte) and the status were checked by the queue.
    if (outcome.error !== null) throw outcome.error;
    return area.bytes.subarray(0, readBytes);
  }

  /** Drains the used ring once; past the deadline the area is left to the device. */
  #poll(deadline: number, outcome: Outcome, bq: BlkQueue, slot: number): void {
    this.#device.onUsed();
    if (outcome.done) return;
    // The ring broke: the request is held until the reset (a promise job this loop does
    // not run): the caller hears the ring's error now, the area stays the device's.
    const broken = bq.failure;
    if (broken === null && this.#platform.clock.now() < deadline) return;
    this.#area = null; // the device owns it until it returns it or is reset
    outcome.orphaned = true;
    if (broken !== null) throw broken;
    bq.abandon(slot, new RequestTimeoutError(this.#device.location, this.#timeoutMs));
    throw new RequestTimeoutError(this.#device.location, this.#timeoutMs);
  }
}
