// Synchronous block I/O by polling the used ring, as U-Boot's virtio-blk does, for callers
// whose API is synchronous (ECMA-419 flash, flash-storage.ts). One request at a time
// through one DMA area of its own (header, data, status byte; §5.2.6): the chain is made
// available and kicked, then the queue is drained (BlockDevice.onUsed, the same path an
// interrupt takes) until the request is back or the deadline passes. Needs a device that
// completes without the event loop running: QEMU does (its I/O threads write the used
// ring while the vCPU spins); the host model does with `processing: "sync"`.
// Same checks as the asynchronous path: used length covers the data and the status
// byte, status OK. A request that times out leaves its memory with the device (never
// freed, never reused: the area is replaced) until a reset gives it back.

import type { DmaBuffer, Platform } from "../../platform/platform.js";
import type { PendingRequest } from "../../ring/requests.js";
import { QueueFullError } from "../../ring/errors.js";
import { RequestTimeoutError } from "../virtio/errors.js";
import type { BlockDevice } from "./block-device.js";
import { BlkRequestType, BlkStatus, REQUEST_HEADER_SIZE, SECTOR_SIZE } from "./blk-spec.js";
import { BlkStatusError, BlkUsedLengthError } from "./errors.js";

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
    const queue = this.#device.pollingQueue(); // the state checks every request makes
    const area = (this.#area ??= this.#platform.dma.alloc(REQUEST_HEADER_SIZE + this.#maxBytes + 1, 64));
    const dataLength = out?.length ?? readBytes;
    const statusAt = REQUEST_HEADER_SIZE + dataLength;
    const view = area.view;
    view.setUint32(0, type, true); // type, le32
    view.setUint32(4, 0, true); // reserved, le32
    view.setUint32(8, sector % 0x1_0000_0000, true); // sector, le64 (low)
    view.setUint32(12, Math.floor(sector / 0x1_0000_0000), true); // sector, le64 (high)
    area.bytes[statusAt] = 0xff; // a status no device returns
    if (out !== null) area.bytes.set(out, REQUEST_HEADER_SIZE);
    const header = { phys: area.phys, len: REQUEST_HEADER_SIZE };
    const data = { phys: area.phys + REQUEST_HEADER_SIZE, len: dataLength };
    const status = { phys: area.phys + statusAt, len: 1 };
    // §5.2.6: header device-readable; data readable for OUT, writable for IN; status writable.
    const readable = out !== null ? [header, data] : [header];
    const writable = type === BlkRequestType.IN ? [data, status] : [status];
    const deadline = this.#platform.clock.now() + this.#timeoutMs;
    const outcome: Outcome = { len: 0, error: null, done: false, orphaned: false };
    const token = this.#token(outcome, area);
    for (;;) {
      try {
        queue.queue.add(readable, writable, token);
        break;
      } catch (error) {
        if (!(error instanceof QueueFullError)) throw error;
        this.#device.onUsed(); // the async path's requests hold the ring: let them finish
        if (this.#platform.clock.now() >= deadline) throw new RequestTimeoutError(this.#device.location, this.#timeoutMs);
      }
    }
    queue.flush();
    while (!outcome.done) this.#poll(deadline, outcome);
    if (outcome.error !== null) throw outcome.error;
    const expected = (type === BlkRequestType.IN ? dataLength : 0) + 1;
    const location = this.#device.location;
    if (outcome.len < expected) throw new BlkUsedLengthError(location, type, sector, outcome.len, expected);
    const code = area.bytes[statusAt]!;
    if (code !== BlkStatus.OK) throw new BlkStatusError(location, type, sector, code);
    return area.bytes.subarray(REQUEST_HEADER_SIZE, REQUEST_HEADER_SIZE + readBytes);
  }

  /** The chain's token: settles `outcome`; after a timeout, gives the area back to the
   * pool once the device returned it (completed late, or reset: detachAll rejects it). */
  #token(outcome: Outcome, area: DmaBuffer): PendingRequest {
    const settle = (len: number, error: Error | null) => {
      if (outcome.done) return;
      outcome.len = len;
      outcome.error = error;
      outcome.done = true;
      if (outcome.orphaned) this.#platform.dma.free(area);
    };
    return { resolve: (len) => settle(len, null), reject: (error) => settle(0, error) };
  }

  /** Drains the used ring once; past the deadline the area is left to the device. */
  #poll(deadline: number, outcome: Outcome): void {
    this.#device.onUsed();
    if (outcome.done || this.#platform.clock.now() < deadline) return;
    this.#area = null; // the device owns it until it returns it or is reset
    outcome.orphaned = true;
    throw new RequestTimeoutError(this.#device.location, this.#timeoutMs);
  }
}
