// One virtio block device (VIRTIO 1.2 §5.2) as the application sees it: promises for
// read, write, flush, get ID, discard and write-zeroes over 512-byte sectors.
// Each request is one chain (§5.2.6): the 16-byte header (device-readable), the data
// (device-readable for a write, device-writable for a read), the status byte
// (device-writable). Large transfers are cut into requests that honour seg_max and
// size_max; many requests are in flight at once (RequestQueue). Every range is checked
// before anything is sent; every used length and status byte is checked on return.

import type { DmaBuffer, Platform } from "../../platform/platform.js";
import { RequestQueue, type PendingRequest } from "../../ring/requests.js";
import type { BufferRef, Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "../virtio/device.js";
import { DeviceBrokenError, DeviceRemovedError, DeviceStateError, RequestTimeoutError } from "../virtio/errors.js";
import { RequestWatchdog, type WatchedRequest } from "../virtio/request-watchdog.js";
import type { RemoveReason } from "../virtio/driver.js";
import { hasFeature } from "../virtio/features.js";
import { readCapacity, type BlkConfigValues } from "./blk-config.js";
import {
  BLK_ID_BYTES, BlkFeature, BlkRequestType, BlkStatus, DISCARD_RANGE_SIZE, SECTOR_SIZE, WRITE_ZEROES_FLAG_UNMAP,
} from "./blk-spec.js";
import {
  BlkBufferError, BlkRangeError, BlkReadOnlyError, BlkStatusError, BlkUnsupportedError, BlkUsedLengthError,
} from "./errors.js";
import { RequestSlots, type RequestSlot } from "./request-slots.js";

export interface BlockDeviceOptions {
  /** Requests in flight at most (each holds a header slot and its bounce memory). Default 32. */
  readonly maxInFlight?: number;
  /** Largest data transfer of one request through bounce memory (plain Uint8Array
   * buffers), in bytes (a multiple of 512). Default 65536. */
  readonly maxRequestBytes?: number;
  /** Bounce memory (DMA) held by requests in flight at most, in bytes. Default 1 MiB:
   * a large read into a plain array never takes the whole DMA pool. */
  readonly maxBounceBytes?: number;
  /** Largest data transfer of one request straight to or from the caller's DMA memory,
   * in bytes (a multiple of 512). Default 4 MiB (the firmware's whole DMA pool): the
   * interpreter's cost is per request, not per byte, so a contiguous DMA buffer goes as
   * few requests as seg_max × size_max allow (§5.2.6.1; QEMU offers no size_max, so one
   * data descriptor). */
  readonly maxDirectRequestBytes?: number;
  /** A request unanswered this long fails with RequestTimeoutError and the device is
   * re-initialized. 0: no limit. Default 10000 ms. */
  readonly timeoutMs?: number;
  /** Re-initializations after request timeouts at most; once spent, the device is given
   * up on: reset and unbound, every request fails with DeviceBrokenError. Default 3. */
  readonly maxRestarts?: number;
  /** Called when a configuration change moved the capacity (in 512-byte sectors). */
  readonly onCapacityChange?: (capacity: number, previous: number) => void;
  /** Called when the device broke a rule (the queue is broken until a re-initialization)
   * or stopped answering (RequestTimeoutError; it is being re-initialized). */
  readonly onError?: (error: Error) => void;
}

/** What the disk is, as the device said (validated). */
export interface BlockInfo {
  readonly location: string;
  /** Size in 512-byte sectors. */
  readonly capacity: number;
  /** Size in bytes. */
  readonly bytes: number;
  /** Optimal block size in bytes (blk_size; 512 when not offered). */
  readonly blockSize: number;
  readonly readOnly: boolean;
  /** FLUSH negotiated: flush() reaches the device; otherwise it is write-through. */
  readonly flush: boolean;
  readonly sizeMax: number | null;
  readonly segMax: number | null;
  /** Largest request the driver sends through bounce memory, in sectors. */
  readonly maxSectorsPerRequest: number;
  /** Largest request the driver sends straight from / to DMA memory, in sectors. */
  readonly maxSectorsPerDirectRequest: number;
  readonly discard: BlkConfigValues["discard"];
  readonly writeZeroes: BlkConfigValues["writeZeroes"];
  readonly geometry: BlkConfigValues["geometry"];
  readonly topology: BlkConfigValues["topology"];
  /** Negotiated feature bits. */
  readonly features: bigint;
}

export interface BlockStats {
  /** Requests sent to the device. */
  readonly requests: number;
  readonly sectorsRead: number;
  readonly sectorsWritten: number;
  /** Requests that came back with a status other than OK or a bad used length. */
  readonly failures: number;
  readonly timeouts: number;
  /** Re-initializations this driver asked for after timeouts (at most maxRestarts). */
  readonly restarts: number;
  /** Requests completed by the watchdog's poll rather than by an interrupt. */
  readonly polledCompletions: number;
  readonly capacityChanges: number;
}

export interface WriteZeroesOptions {
  /** Let the device deallocate the sectors (VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP). */
  readonly unmap?: boolean;
}

/** A read target or write source: plain bytes (copied through bounce DMA) or DMA memory (no copy). */
export type BlockBuffer = Uint8Array | DmaBuffer;

/** What one request carries besides header and status. */
interface Payload {
  readonly readable: readonly BufferRef[];
  readonly writable: readonly BufferRef[];
  /** Bytes the device must write before the status byte (data of a read, the ID). */
  readonly expectIn: number;
}

function isDmaBuffer(b: BlockBuffer): b is DmaBuffer {
  return !(b instanceof Uint8Array) && typeof (b as DmaBuffer).phys === "number" && (b as DmaBuffer).bytes instanceof Uint8Array;
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** `len` bytes at `phys` as descriptors of at most `sizeMax` bytes each. */
function segments(phys: number, len: number, sizeMax: number): BufferRef[] {
  const out: BufferRef[] = [];
  for (let off = 0; off < len; off += sizeMax) out.push({ phys: phys + off, len: Math.min(sizeMax, len - off) });
  return out;
}

export class BlockDevice {
  readonly #device: VirtioDevice;
  readonly #platform: Platform;
  readonly #maxInFlight: number;
  readonly #maxRequestBytes: number;
  readonly #maxDirectRequestBytes: number;
  readonly #maxBounceBytes: number;
  readonly #timeoutMs: number;
  readonly #maxRestarts: number;
  /** Set once the restart budget is spent: the device is not used again. */
  #givenUp: DeviceBrokenError | null = null;
  readonly #onCapacityChange: BlockDeviceOptions["onCapacityChange"];
  readonly #onError: BlockDeviceOptions["onError"];
  /** The failure already reported through onError. */
  #reported: Error | null = null;
  #rq: RequestQueue | null = null;
  #slots: RequestSlots | null = null;
  #config: BlkConfigValues | null = null;
  #features = 0n;
  #queueSize = 0;
  #indirect = false;
  /** Sectors per request through bounce memory / straight from DMA memory, and size_max:
   * worked out at attach (a config change moves only the capacity). */
  #perBounce = 1;
  #perDirect = 1;
  #sizeMax: number | null = null;
  #live = false;
  #closed = false;
  #flushScheduled = false;
  #bounceBytes = 0;
  readonly #bounceWaiters: { readonly length: number; readonly resolve: () => void }[] = [];
  readonly #watchdog: RequestWatchdog;
  #stats = { requests: 0, sectorsRead: 0, sectorsWritten: 0, failures: 0, timeouts: 0, restarts: 0, polledCompletions: 0, capacityChanges: 0 };

  constructor(device: VirtioDevice, options: BlockDeviceOptions = {}) {
    const maxInFlight = options.maxInFlight ?? 32;
    const maxRequestBytes = options.maxRequestBytes ?? 65536;
    const maxDirectRequestBytes = options.maxDirectRequestBytes ?? 4 * 1024 * 1024;
    const maxBounceBytes = options.maxBounceBytes ?? 1024 * 1024;
    const timeoutMs = options.timeoutMs ?? 10000;
    const maxRestarts = options.maxRestarts ?? 3;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight ${maxInFlight} must be a positive integer`);
    if (!Number.isInteger(maxRequestBytes) || maxRequestBytes < SECTOR_SIZE || maxRequestBytes % SECTOR_SIZE !== 0) {
      throw new RangeError(`maxRequestBytes ${maxRequestBytes} must be a positive multiple of ${SECTOR_SIZE}`);
    }
    if (!Number.isInteger(maxDirectRequestBytes) || maxDirectRequestBytes < SECTOR_SIZE || maxDirectRequestBytes % SECTOR_SIZE !== 0) {
      throw new RangeError(`maxDirectRequestBytes ${maxDirectRequestBytes} must be a positive multiple of ${SECTOR_SIZE}`);
    }
    if (!Number.isInteger(maxBounceBytes) || maxBounceBytes < 1) throw new RangeError(`maxBounceBytes ${maxBounceBytes} must be a positive integer`);
    if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs ${timeoutMs} must be 0 or more`);
    if (!Number.isInteger(maxRestarts) || maxRestarts < 0) throw new RangeError(`maxRestarts ${maxRestarts} must be 0 or more`);
    this.#device = device;
    this.#platform = device.platform;
    this.#maxInFlight = maxInFlight;
    this.#maxRequestBytes = maxRequestBytes;
    this.#maxDirectRequestBytes = maxDirectRequestBytes;
    this.#maxBounceBytes = maxBounceBytes;
    this.#timeoutMs = timeoutMs;
    this.#maxRestarts = maxRestarts;
    this.#onCapacityChange = options.onCapacityChange;
    this.#onError = options.onError;
    this.#watchdog = new RequestWatchdog({
      platform: this.#platform,
      location: device.location,
      timeoutMs,
      poll: () => {
        this.#stats.polledCompletions += this.onUsed();
      },
      onExpired: (count) => this.#expired(count),
    });
  }

  get location(): string {
    return this.#device.location;
  }

  /** The error that stopped the queue (a ring violation), until the device is re-initialized. */
  get broken(): Error | null {
    return this.#givenUp ?? this.#rq?.failure ?? null;
  }

  /** True between DRIVER_OK and the next reset or unbind. */
  get ready(): boolean {
    return this.#live && this.#givenUp === null && this.#rq !== null && this.#rq.failure === null;
  }

  /** The disk as the device describes it. Throws DeviceStateError before the first probe. */
  get info(): BlockInfo {
    const c = this.#config;
    if (c === null) throw new DeviceStateError(this.location, this.#device.step, "describe the disk");
    return {
      location: this.location,
      capacity: c.capacity,
      bytes: c.capacity * SECTOR_SIZE,
      blockSize: c.blockSize,
      readOnly: this.readOnly,
      flush: hasFeature(this.#features, BlkFeature.FLUSH),
      sizeMax: c.sizeMax,
      segMax: c.segMax,
      maxSectorsPerRequest: this.#sectorsPerRequest(false),
      maxSectorsPerDirectRequest: this.#sectorsPerRequest(true),
      discard: c.discard,
      writeZeroes: c.writeZeroes,
      geometry: c.geometry,
      topology: c.topology,
      features: this.#features,
    };
  }

  /** Size in 512-byte sectors (0 before the first probe). */
  get capacity(): number {
    return this.#config?.capacity ?? 0;
  }

  get readOnly(): boolean {
    return hasFeature(this.#features, BlkFeature.RO);
  }

  stats(): BlockStats {
    return { ...this.#stats };
  }

  /** Counters of the request queue's ring (notifications, completions), for benchmarks. */
  queueStats(): ReturnType<Virtqueue<PendingRequest>["stats"]> | null {
    return this.#rq?.queue.stats() ?? null;
  }

  // ---- the API ----

  /**
   * Reads `count` sectors from `lba`. Into a new Uint8Array, into `into` (its first
   * count*512 bytes), or, when `into` is DMA memory, straight into it with no copy.
   * Resolves to the bytes read.
   */
  async read(lba: number, count: number, into?: BlockBuffer): Promise<Uint8Array> {
    this.#checkRange(lba, count, "read");
    const length = count * SECTOR_SIZE;
    const dma = into !== undefined && isDmaBuffer(into) ? into : null;
    let target: Uint8Array;
    if (into === undefined) target = new Uint8Array(length);
    else {
      const have = dma !== null ? dma.size : (into as Uint8Array).length;
      if (have < length) throw new BlkBufferError(this.location, have, `too small for ${count} sectors (${length} bytes)`);
      target = (dma !== null ? dma.bytes : (into as Uint8Array)).subarray(0, length);
    }
    const per = dma !== null ? this.#perDirect : this.#perBounce;
    if (count <= per) {
      // One request: no list of pieces, no Promise.all (each promise hop costs the interpreter).
      await this.#transfer(BlkRequestType.IN, lba, count, target, 0, dma);
      return target;
    }
    const pieces: Promise<void>[] = [];
    for (let done = 0; done < count; done += per) {
      const n = Math.min(per, count - done);
      pieces.push(this.#transfer(BlkRequestType.IN, lba + done, n, target, done * SECTOR_SIZE, dma));
    }
    await Promise.all(pieces);
    return target;
  }

  /** Writes `data` (a whole number of sectors) at `lba`. Refused on a read-only disk. */
  async write(lba: number, data: BlockBuffer): Promise<void> {
    const dma = isDmaBuffer(data) ? data : null;
    const source = dma !== null ? dma.bytes.subarray(0, dma.size) : (data as Uint8Array);
    if (source.length === 0 || source.length % SECTOR_SIZE !== 0) {
      throw new BlkBufferError(this.location, source.length, `not a positive multiple of ${SECTOR_SIZE}`);
    }
    const count = source.length / SECTOR_SIZE;
    this.#checkRange(lba, count, "write");
    if (this.readOnly) throw new BlkReadOnlyError(this.location, "write");
    const per = dma !== null ? this.#perDirect : this.#perBounce;
    if (count <= per) return this.#transfer(BlkRequestType.OUT, lba, count, source, 0, dma);
    const pieces: Promise<void>[] = [];
    for (let done = 0; done < count; done += per) {
      const n = Math.min(per, count - done);
      pieces.push(this.#transfer(BlkRequestType.OUT, lba + done, n, source, done * SECTOR_SIZE, dma));
    }
    await Promise.all(pieces);
  }

  /** Makes completed writes durable (FLUSH, §5.2.6). Without VIRTIO_BLK_F_FLUSH the device
   * is write-through and this resolves at once. */
  async flush(): Promise<void> {
    this.#checkUsable();
    if (!hasFeature(this.#features, BlkFeature.FLUSH)) return;
    // §5.2.6.1: a flush carries no data and sector 0.
    await this.#request(BlkRequestType.FLUSH, 0, () => ({ payload: { readable: [], writable: [], expectIn: 0 } }));
  }

  /** The device's identifier string (GET_ID, up to 20 bytes, §5.2.6). */
  async id(): Promise<string> {
    this.#checkUsable();
    const dma = this.#platform.dma;
    return this.#request(BlkRequestType.GET_ID, 0, () => {
      const buffer = dma.alloc(BLK_ID_BYTES);
      buffer.bytes.fill(0);
      return {
        payload: { readable: [], writable: [{ phys: buffer.phys, len: BLK_ID_BYTES }], expectIn: 0 },
        finish: () => {
          let text = "";
          for (const b of buffer.bytes) {
            if (b === 0) break;
            text += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "?";
          }
          return text;
        },
        cleanup: () => dma.free(buffer),
      };
    });
  }

  /** Tells the device `count` sectors from `lba` are unused (DISCARD, when offered). */
  async discard(lba: number, count: number): Promise<void> {
    const limits = this.#config?.discard ?? null;
    await this.#ranges(BlkRequestType.DISCARD, "discard", "DISCARD", BlkFeature.DISCARD, limits?.maxSectors ?? 0, lba, count, 0);
  }

  /** Zeroes `count` sectors from `lba` without sending data (WRITE_ZEROES, when offered). */
  async writeZeroes(lba: number, count: number, options: WriteZeroesOptions = {}): Promise<void> {
    const limits = this.#config?.writeZeroes ?? null;
    const flags = options.unmap === true ? WRITE_ZEROES_FLAG_UNMAP : 0;
    await this.#ranges(BlkRequestType.WRITE_ZEROES, "write zeroes", "WRITE_ZEROES", BlkFeature.WRITE_ZEROES, limits?.maxSectors ?? 0, lba, count, flags);
  }

  /**
   * Throws what read (or, with `write`, write) would reject with for this range, without
   * sending anything: BlkRangeError, BlkReadOnlyError, or a state error. For callers that
   * stream a range in pieces and want the whole range checked first.
   */
  check(lba: number, count: number, write = false): void {
    this.#checkRange(lba, count, write ? "write" : "read");
    if (write && this.readOnly) throw new BlkReadOnlyError(this.location, "write");
  }

  /**
   * For synchronous callers that poll the used ring instead of awaiting (polled-io.ts:
   * ECMA-419 flash): the live request queue, after the checks every request makes
   * (unbound, given up, not live, broken throw as they would reject). Chains added to
   * it complete through onUsed(), as the interrupt path's do.
   */
  pollingQueue(): RequestQueue {
    this.#checkUsable();
    return this.#rq!;
  }

  // ---- the driver's calls ----

  /** During probe: the new queue and configuration (after a bind or a re-init). */
  attach(queue: Virtqueue<PendingRequest>, config: BlkConfigValues, features: bigint, indirect: boolean): void {
    this.#rq = new RequestQueue(queue);
    this.#slots = new RequestSlots(this.#platform.dma, Math.min(this.#maxInFlight, queue.size));
    this.#config = config;
    this.#features = features;
    this.#queueSize = queue.size;
    this.#indirect = indirect;
    this.#perBounce = this.#sectorsPerRequest(false);
    this.#perDirect = this.#sectorsPerRequest(true);
    this.#sizeMax = config.sizeMax;
    this.#live = false;
  }

  /** At DRIVER_OK. */
  start(): void {
    this.#live = true;
  }

  /** From remove(): the device is reset, so every request in flight fails and its memory
   * comes back; every waiting request fails. */
  detach(reason: RemoveReason): void {
    const error = new DeviceRemovedError(this.location, reason === "unbind" ? "device unbound" : "device reset");
    if (reason === "unbind") this.#closed = true;
    this.#live = false;
    const rq = this.#rq;
    const slots = this.#slots;
    this.#rq = null;
    this.#slots = null;
    rq?.detachAll(error);
    slots?.close(error);
    this.#watchdog.failAll(error);
  }

  /** The core's used-buffer callback (event loop). */
  onUsed(): number {
    const rq = this.#rq;
    if (rq === null) return 0;
    const done = rq.onInterrupt();
    if (rq.failure !== null && rq.failure !== this.#reported) this.#fault(rq.failure);
    return done;
  }

  /** A configuration change (§5.2.4: the capacity may change, e.g. QMP block_resize). */
  configChanged(): void {
    const config = this.#config;
    if (config === null) return;
    let capacity: number;
    try {
      capacity = readCapacity(this.#device);
    } catch (error) {
      this.#device.reportError(asError(error));
      return;
    }
    if (capacity === config.capacity) return;
    const previous = config.capacity;
    this.#config = { ...config, capacity };
    this.#stats.capacityChanges++;
    try {
      this.#onCapacityChange?.(capacity, previous);
    } catch (error) {
      this.#device.reportError(asError(error));
    }
  }

  /** Records a device fault on the core (shown by `devices`) and tells onError, once. */
  #fault(error: Error): void {
    this.#reported = error;
    this.#device.reportError(error);
    try {
      this.#onError?.(error);
    } catch {
      // a throwing callback must not reach the event loop
    }
  }

  // ---- requests ----

  /** Sectors per request: size_max × seg_max (§5.2.6.1), within maxRequestBytes and, with
   * direct descriptors, within the queue (header and status take two). */
  #sectorsPerRequest(direct: boolean): number {
    const c = this.#config;
    const cap = direct ? this.#maxDirectRequestBytes : this.#maxRequestBytes;
    let segs = c?.segMax ?? 1;
    if (!this.#indirect && this.#queueSize > 0) segs = Math.max(1, Math.min(segs, this.#queueSize - 2));
    const sizeMax = c?.sizeMax ?? cap;
    const bytes = Math.min(cap, segs * sizeMax);
    return Math.max(1, Math.floor(bytes / SECTOR_SIZE));
  }

  #checkUsable(): void {
    if (this.#givenUp !== null) throw this.#givenUp;
    if (this.#closed) throw new DeviceRemovedError(this.location, "device unbound");
    const rq = this.#rq;
    if (rq === null || !this.#live) throw new DeviceStateError(this.location, this.#device.step, "send block requests");
    if (rq.failure !== null) throw rq.failure;
  }

  /** §5.2.6.1 through our own rules: every range lies inside the disk, checked before sending. */
  #checkRange(lba: number, count: number, operation: string): void {
    this.#checkUsable();
    const capacity = this.#config!.capacity; // set: #checkUsable found a queue
    let reason: string;
    if (!Number.isSafeInteger(lba) || lba < 0) reason = "lba must be a non-negative integer";
    else if (!Number.isSafeInteger(count) || count < 1) reason = "count must be a positive integer";
    else if (lba + count > capacity) reason = "beyond the end of the disk";
    else return;
    throw new BlkRangeError(this.location, lba, count, capacity, `${operation}: ${reason}`);
  }

  /** One IN or OUT request of `count` sectors at `sector`: its data is `bytes` from
   * `offset` (through a bounce buffer, within maxBounceBytes), or the same span of `dma`
   * (no copy). */
  #transfer(type: number, sector: number, count: number, bytes: Uint8Array, offset: number, dma: DmaBuffer | null): Promise<void> {
    const length = count * SECTOR_SIZE;
    if (dma === null) return this.#bounced(type, sector, count, bytes, offset, length);
    const sizeMax = this.#sizeMax;
    if (sizeMax === null || length <= sizeMax) return this.#direct(type, sector, count, dma.phys + offset, length);
    return this.#request(type, sector, () => this.#payload(type, count, bytes, offset, length, dma));
  }

  /** An IN or OUT request through bounce memory (within maxBounceBytes). */
  async #bounced(type: number, sector: number, count: number, bytes: Uint8Array, offset: number, length: number): Promise<void> {
    // No await when the bounce memory fits: requests of one call are enqueued in one turn.
    const wait = this.#bounceTake(length);
    if (wait !== null) await wait;
    try {
      return await this.#request(type, sector, () => this.#payload(type, count, bytes, offset, length, null));
    } finally {
      this.#bounceGive(length);
    }
  }

  #payload(type: number, count: number, bytes: Uint8Array, offset: number, length: number, dma: DmaBuffer | null) {
    const isRead = type === BlkRequestType.IN;
    const pool = this.#platform.dma;
    const sizeMax = this.#config?.sizeMax ?? length;
    let bounce: DmaBuffer | null = null;
    let phys: number;
    if (dma !== null) phys = dma.phys + offset;
    else {
      bounce = pool.alloc(length, 64);
      if (!isRead) bounce.bytes.set(bytes.subarray(offset, offset + length));
      phys = bounce.phys;
    }
    const data = segments(phys, length, sizeMax);
    const held = bounce;
    return {
      payload: isRead ? { readable: [], writable: data, expectIn: length } : { readable: data, writable: [], expectIn: 0 },
      finish: () => {
        if (isRead) {
          if (held !== null) bytes.set(held.bytes.subarray(0, length), offset);
          this.#stats.sectorsRead += count;
        } else this.#stats.sectorsWritten += count;
      },
      cleanup: () => {
        if (held !== null) pool.free(held);
      },
    };
  }

  /** Reserves `length` bytes of bounce memory: null if granted now, else a promise of it
   * (in order). One request is always allowed, whatever its size. */
  #bounceTake(length: number): Promise<void> | null {
    if (this.#bounceWaiters.length === 0 && (this.#bounceBytes === 0 || this.#bounceBytes + length <= this.#maxBounceBytes)) {
      this.#bounceBytes += length;
      return null;
    }
    return new Promise<void>((resolve) => this.#bounceWaiters.push({ length, resolve }));
  }

  #bounceGive(length: number): void {
    this.#bounceBytes -= length;
    while (this.#bounceWaiters.length > 0) {
      const next = this.#bounceWaiters[0]!;
      if (this.#bounceBytes !== 0 && this.#bounceBytes + next.length > this.#maxBounceBytes) break;
      this.#bounceWaiters.shift();
      this.#bounceBytes += next.length;
      next.resolve();
    }
  }

  /** DISCARD / WRITE_ZEROES over [lba, lba+count): one range of at most `maxSectors` per request. */
  async #ranges(type: number, operation: string, feature: string, bit: number, maxSectors: number, lba: number, count: number, flags: number): Promise<void> {
    this.#checkRange(lba, count, operation);
    if (!hasFeature(this.#features, bit)) throw new BlkUnsupportedError(this.location, operation, feature);
    if (this.readOnly) throw new BlkReadOnlyError(this.location, operation);
    const pool = this.#platform.dma;
    const pieces: Promise<void>[] = [];
    for (let done = 0; done < count; done += maxSectors) {
      const sector = lba + done;
      const n = Math.min(maxSectors, count - done);
      pieces.push(
        this.#request(type, 0, () => {
          const range = pool.alloc(DISCARD_RANGE_SIZE, 16);
          const v = range.view;
          v.setUint32(0, sector % 0x1_0000_0000, true); // sector, le64 (low)
          v.setUint32(4, Math.floor(sector / 0x1_0000_0000), true); // sector, le64 (high)
          v.setUint32(8, n, true); // num_sectors, le32
          v.setUint32(12, flags, true); // flags, le32
          return {
            payload: { readable: [{ phys: range.phys, len: DISCARD_RANGE_SIZE }], writable: [], expectIn: 0 },
            cleanup: () => pool.free(range),
          };
        }),
      );
    }
    await Promise.all(pieces);
  }

  /**
   * Sends one request: waits for a slot, builds the payload (`build` may allocate; its
   * `cleanup` runs whatever happens), writes the header, makes the chain available
   * (kicked once per batch), then checks the used length and the status byte.
   */
  async #request<T = void>(
    type: number,
    sector: number,
    build: () => { payload: Payload; finish?: () => T; cleanup?: () => void },
  ): Promise<T> {
    this.#checkUsable();
    const slots = this.#slots!;
    const rq = this.#rq!;
    const slot: RequestSlot = slots.take() ?? (await slots.wait());
    let cleanup: (() => void) | undefined;
    try {
      if (rq.failure !== null) throw rq.failure;
      const built = build();
      cleanup = built.cleanup;
      const { readable, writable, expectIn } = built.payload;
      slot.prepare(type, sector);
      this.#stats.requests++;
      const pending = rq.enqueue([slot.header, ...readable], [...writable, slot.status]);
      this.#scheduleFlush();
      const len = await this.#withDeadline(pending);
      this.#checkDone(type, sector, slot, len, expectIn);
      return built.finish ? built.finish() : (undefined as T);
    } finally {
      if (cleanup !== undefined) cleanup();
      slots.give(slot);
    }
  }

  /**
   * The hot path: one IN or OUT request with one data descriptor straight to or from DMA
   * memory. Same rules as #request (slot, used length, status byte), but no payload
   * closures and no arrays: the slot's own descriptor lists.
   */
  async #direct(type: number, sector: number, count: number, phys: number, length: number): Promise<void> {
    // read() / write() ran #checkRange in this same turn: the queue and slots are there.
    const slots = this.#slots!;
    const rq = this.#rq!;
    const slot: RequestSlot = slots.take() ?? (await slots.wait());
    let watched: WatchedRequest | null = null;
    try {
      if (rq.failure !== null) throw rq.failure;
      const isRead = type === BlkRequestType.IN;
      slot.prepare(type, sector);
      slot.data.phys = phys;
      slot.data.len = length;
      this.#stats.requests++;
      // The watchdog rejects the ring's own request on a deadline: no wrapping promise.
      const watch = this.#timeoutMs === 0 ? undefined : (request: PendingRequest) => (watched = this.#watchdog.watch(request.reject));
      const pending = isRead ? rq.enqueue(slot.headerOnly, slot.dataThenStatus, watch) : rq.enqueue(slot.headerThenData, slot.statusOnly, watch);
      this.#scheduleFlush();
      const len = await pending;
      this.#checkDone(type, sector, slot, len, isRead ? length : 0);
      if (isRead) this.#stats.sectorsRead += count;
      else this.#stats.sectorsWritten += count;
    } finally {
      (watched as WatchedRequest | null)?.done(); // set by the enqueue callback
      slots.give(slot);
    }
  }

  /** A used request: the status byte is the last writable byte, so used len must cover it
   * and a read's data before it (§5.2.6; the ring already checked len ≤ what was offered);
   * the status must be OK. */
  #checkDone(type: number, sector: number, slot: RequestSlot, len: number, expectIn: number): void {
    const expected = expectIn + 1;
    if (len < expected) {
      this.#stats.failures++;
      throw new BlkUsedLengthError(this.location, type, sector, len, expected);
    }
    const status = slot.readStatus();
    if (status !== BlkStatus.OK) {
      this.#stats.failures++;
      throw new BlkStatusError(this.location, type, sector, status);
    }
  }

  /** Publishes every chain enqueued in this turn with one kick (batching). */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    void Promise.resolve().then(this.#flushNow);
  }

  readonly #flushNow = (): void => {
    this.#flushScheduled = false;
    this.#rq?.flush();
  };

  /** The request's promise, failed with RequestTimeoutError if the device does not answer
   * in time (the watchdog also polls the queue meanwhile: a lost interrupt costs time). */
  #withDeadline(pending: Promise<number>): Promise<number> {
    if (this.#timeoutMs === 0) return pending;
    return new Promise<number>((resolve, reject) => {
      const watched = this.#watchdog.watch(reject);
      pending.then(
        (len) => {
          if (watched.done()) resolve(len);
        },
        (error: unknown) => {
          if (watched.done()) reject(asError(error));
        },
      );
    });
  }

  /** `count` requests timed out: the device stopped answering. */
  #expired(count: number): void {
    this.#stats.timeouts += count;
    this.#fault(new RequestTimeoutError(this.location, this.#timeoutMs));
    if (this.#givenUp !== null || this.#closed) return;
    if (this.#stats.restarts >= this.#maxRestarts) {
      // A device that keeps hanging is not re-initialized for ever: it is given up on.
      // Unbinding resets it (it gives back its chains and their memory, §2.4) and leaves
      // it unbound; every later request fails at once with this error.
      this.#givenUp = new DeviceBrokenError(this.location, `requests timed out after ${this.#stats.restarts} re-initialization(s): given up`);
      this.#fault(this.#givenUp);
      this.#watchdog.failAll(this.#givenUp);
      void this.#device.unbind();
      return;
    }
    this.#stats.restarts++;
    // The chains stay with the device until it is reset: re-initialize it, which takes
    // them back and frees their memory (remove -> detach).
    void this.#device.restart();
  }
}
