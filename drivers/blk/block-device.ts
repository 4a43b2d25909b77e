// One virtio block device (VIRTIO 1.2 §5.2) as the application sees it: promises for
// read, write, flush, get ID, discard and write-zeroes over 512-byte sectors.
// Each request is one chain (§5.2.6): the 16-byte header (device-readable), the data
// (device-readable for a write, device-writable for a read), the status byte
// (device-writable). Large transfers are cut into requests that honour seg_max and
// size_max; many requests are in flight at once (BlkQueue). Every range is checked
// before anything is sent; every used length and status byte is checked on return.
//
// The hot path, a read or write of DMA memory in one request with one data descriptor,
// makes one promise and nothing else: the slot's chain was prepared at attach, the
// completion settles the promise straight from the used ring (blk-queue.ts).

import type { DmaBuffer, Platform } from "../../platform/platform.js";
import type { BufferRef, Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "../virtio/device.js";
import { DeviceBrokenError, DeviceRemovedError, DeviceStateError, RequestTimeoutError } from "../virtio/errors.js";
import type { RemoveReason } from "../virtio/driver.js";
import { hasFeature } from "../virtio/features.js";
import { readCapacity, type BlkConfigValues } from "./blk-config.js";
import { createBlkQueue, type BlkQueue } from "./blk-queue.js";
import { FAST_PATH_OFF, type FastPath } from "./fast-path.js";
import { BLK_ID_BYTES, BlkFeature, BlkRequestType, SECTOR_SIZE, WRITE_ZEROES_FLAG_UNMAP } from "./blk-spec.js";
import { BlkBufferError, BlkConfigError, BlkRangeError, BlkReadOnlyError, BlkUnsupportedError } from "./errors.js";
import { isDmaBuffer, type BlockBuffer, type BlockDeviceOptions, type BlockInfo, type BlockStats, type WriteZeroesOptions } from "./block-types.js";
import { blockLimits } from "./block-options.js";
import { BounceBudget, discardRange, runPieces, segments, type Built, type PieceGroup } from "./general-requests.js";

export type { BlockBuffer, BlockDeviceOptions, BlockInfo, BlockStats, WriteZeroesOptions } from "./block-types.js";

/** Descriptors one request needs at least: header, data, status (the queue must hold the
 * chain, direct or indirect: §2.7.5.3.1). */
export const MIN_CHAIN = 3;

/** Throws BlkConfigError if a queue of `size` descriptors cannot hold one request: without
 * indirect descriptors a chain takes header, data and status (§2.7.13.1, §5.2.6). */
export function checkQueueFits(location: string, size: number, indirect: boolean): void {
  if (!indirect && size < MIN_CHAIN) {
    throw new BlkConfigError(location, "queue size", size, `a request needs ${MIN_CHAIN} descriptors (header, data, status) without INDIRECT_DESC`);
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

export class BlockDevice {
  /** The hot path (fast-path.ts: the live queue's, or FAST_PATH_OFF), first of the
   * fields: the cheapest one for XS to find. */
  #fast: FastPath = FAST_PATH_OFF;
  readonly #device: VirtioDevice;
  readonly #platform: Platform;
  readonly #maxInFlight: number;
  readonly #maxRequestBytes: number;
  readonly #maxDirectRequestBytes: number;
  readonly #timeoutMs: number;
  readonly #pollUs: number;
  readonly #maxRestarts: number;
  /** Set once the restart budget is spent: the device is not used again. */
  #givenUp: DeviceBrokenError | null = null;
  readonly #onCapacityChange: BlockDeviceOptions["onCapacityChange"];
  readonly #onError: BlockDeviceOptions["onError"];
  /** The ring broke: kept from then until the next attach (the device is reset and left
   * FAILED meanwhile, so the queue itself goes away). */
  #ringFailure: Error | null = null;
  /** The failure already reported through onError. */
  #reported: Error | null = null;
  #bq: BlkQueue | null = null;
  /** #bq while requests may go the hot path (live, not given up, not closed). */
  #fastQueue: BlkQueue | null = null;
  /** The capacity in sectors, for the hot path's range test (0 until attached). */
  #capacity = 0;
  /** VIRTIO_BLK_F_RO negotiated (worked out at attach: bigint tests are slow on XS). */
  #readOnly = false;
  #config: BlkConfigValues | null = null;
  #features = 0n;
  #queueSize = 0;
  #indirect = false;
  /** Descriptors the reserved chains take (none when the fast path is off). */
  #reservedDescs = 0;
  /** Sectors per request through bounce memory / straight from DMA memory, the largest
   * fast-path request (one data descriptor), and size_max: worked out at attach. */
  #perBounce = 1;
  #perDirect = 1;
  #perFast = 0;
  #sizeMax: number | null = null;
  #live = false;
  #closed = false;
  readonly #bounce: BounceBudget;
  #stats = { requests: 0, sectorsRead: 0, sectorsWritten: 0, failures: 0, timeouts: 0, restarts: 0, polledCompletions: 0, capacityChanges: 0 };

  constructor(device: VirtioDevice, options: BlockDeviceOptions = {}) {
    const { maxInFlight, maxRequestBytes, maxDirectRequestBytes, maxBounceBytes, timeoutMs, maxRestarts, pollUs } = blockLimits(options);
    this.#device = device;
    this.#platform = device.platform;
    this.#maxInFlight = maxInFlight;
    this.#maxRequestBytes = maxRequestBytes;
    this.#maxDirectRequestBytes = maxDirectRequestBytes;
    this.#bounce = new BounceBudget(maxBounceBytes);
    this.#timeoutMs = timeoutMs;
    this.#pollUs = pollUs;
    this.#maxRestarts = maxRestarts;
    this.#onCapacityChange = options.onCapacityChange;
    this.#onError = options.onError;
  }

  get location(): string {
    return this.#device.location;
  }

  /** The error that stopped the queue (a ring violation), until the device is re-initialized. */
  get broken(): Error | null {
    return this.#givenUp ?? this.#bq?.failure ?? this.#ringFailure;
  }

  /** True between DRIVER_OK and the next reset or unbind. */
  get ready(): boolean {
    return this.#live && this.#givenUp === null && this.#bq !== null && this.#bq.failure === null;
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
    return this.#readOnly;
  }

  stats(): BlockStats {
    this.#bq?.syncStats(); // the hot path's counters, kept in the queue
    return { ...this.#stats };
  }

  /** Counters of the request queue's ring (notifications, completions), for benchmarks. */
  queueStats(): ReturnType<Virtqueue<number>["stats"]> | null {
    return this.#bq?.queue.stats() ?? null;
  }

  // ---- the API ----

  /**
   * Reads `count` sectors from `lba`. Into a new Uint8Array, into `into` (its first
   * count*512 bytes), or, when `into` is DMA memory, straight into it with no copy.
   * Resolves to the bytes read.
   */
  read(lba: number, count: number, into?: BlockBuffer): Promise<Uint8Array> {
    return this.#fast.read(lba, count, into) ?? this.#read(lba, count, into);
  }

  /** Writes `data` (a whole number of sectors) at `lba`. Refused on a read-only disk. */
  write(lba: number, data: BlockBuffer): Promise<void> {
    return this.#fast.write(lba, data) ?? this.#write(lba, data);
  }

  /** Makes completed writes durable (FLUSH, §5.2.6). Without VIRTIO_BLK_F_FLUSH the device
   * is write-through and this resolves at once. */
  async flush(): Promise<void> {
    this.#checkUsable();
    if (!hasFeature(this.#features, BlkFeature.FLUSH)) return;
    // §5.2.6.1: a flush carries no data and sector 0.
    await this.#request(BlkRequestType.FLUSH, 0, () => ({ readable: [], writable: [], expectIn: 0 }));
  }

  /** The device's identifier string (GET_ID, up to 20 bytes, §5.2.6). */
  async id(): Promise<string> {
    this.#checkUsable();
    const dma = this.#platform.dma;
    return this.#request(BlkRequestType.GET_ID, 0, () => {
      const buffer = dma.alloc(BLK_ID_BYTES);
      buffer.bytes.fill(0);
      return {
        // §5.2.6: the 20 ID bytes come before the status byte: the used length must
        // cover both, or the ID is bytes the device never claimed to write.
        readable: [], writable: [{ phys: buffer.phys, len: BLK_ID_BYTES }], expectIn: BLK_ID_BYTES,
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
  pollingQueue(): BlkQueue {
    this.#checkUsable();
    return this.#bq!;
  }

  // ---- the driver's calls ----

  /** During probe: the new queue and configuration (after a bind or a re-init). Throws
   * BlkConfigError if the queue cannot hold one request (§2.7.13.1, defect 8). */
  attach(queue: Virtqueue<number>, config: BlkConfigValues, features: bigint, indirect: boolean): void {
    const size = queue.size;
    checkQueueFits(this.location, size, indirect);
    const slots = Math.min(this.#maxInFlight, size);
    // A prepared chain per slot, when the queue also keeps room for one general request.
    const fixedChains = MIN_CHAIN * slots + MIN_CHAIN <= size;
    this.#config = config;
    this.#ringFailure = null;
    this.#capacity = config.capacity;
    this.#features = features;
    this.#readOnly = hasFeature(features, BlkFeature.RO);
    this.#queueSize = size;
    this.#indirect = indirect;
    this.#reservedDescs = 0;
    this.#bq = createBlkQueue({
      platform: this.#platform,
      location: this.location,
      queue,
      slots,
      fixedChains,
      timeoutMs: this.#timeoutMs,
      pollMs: this.#pollUs / 1000,
      stats: this.#stats,
      onExpired: (count) => this.#expired(count),
      onRingError: (error) => this.#ringBroke(error),
      onPolled: (count) => void (this.#stats.polledCompletions += count),
    });
    this.#reservedDescs = this.#bq.fast ? MIN_CHAIN * slots : 0;
    this.#perBounce = this.#sectorsPerRequest(false);
    this.#perDirect = this.#sectorsPerRequest(true);
    this.#sizeMax = config.sizeMax;
    // The fast path: one data descriptor (at most size_max bytes).
    const oneSegment = config.sizeMax === null ? this.#perDirect : Math.min(this.#perDirect, Math.floor(config.sizeMax / SECTOR_SIZE));
    this.#perFast = this.#bq.fast ? oneSegment : 0;
    this.#live = false;
    this.#syncFast();
  }

  /** At DRIVER_OK. */
  start(): void {
    this.#live = true;
    this.#fastQueue = this.#givenUp === null && !this.#closed && this.#bq?.fast === true ? this.#bq : null;
    this.#syncFast();
  }

  /** The device failed and its reset did not complete (VirtioDriver.quiesce): no new
   * request goes to its ring (they are refused at once); those out stay the device's until
   * remove() after a reset that completes. */
  quiesce(): void {
    this.#live = false;
    this.#fastQueue = null;
    this.#syncFast();
  }

  /** From remove(): the device is reset, so every request in flight fails and its memory
   * comes back; every waiting request fails. */
  detach(reason: RemoveReason): void {
    const error = this.#givenUp ?? new DeviceRemovedError(this.location, reason === "unbind" ? "device unbound" : "device reset");
    if (reason === "unbind") this.#closed = true;
    this.#live = false;
    this.#perFast = 0;
    this.#fastQueue = null;
    this.#syncFast();
    const bq = this.#bq;
    this.#bq = null;
    bq?.close(error);
  }

  /** The core's used-buffer callback (event loop). */
  onUsed(): number {
    return this.#bq?.drain() ?? 0;
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
    this.#capacity = capacity;
    this.#syncFast();
    this.#stats.capacityChanges++;
    try {
      this.#onCapacityChange?.(capacity, previous);
    } catch (error) {
      this.#device.reportError(asError(error));
    }
  }

  /** The hot path sees what requests may use now. */
  #syncFast(): void {
    // #fastQueue is #bq while requests may take the hot path, else null (then off).
    const fq = this.#fastQueue;
    if (fq !== null) fq.configureFast(this.#perFast, this.#capacity, this.#readOnly);
    else this.#bq?.configureFast(0, 0, true);
    this.#fast = fq !== null && this.#perFast > 0 ? fq.fastPath : FAST_PATH_OFF;
  }

  /**
   * The ring broke: the device still holds the chains in flight and may still write the
   * memory they point at, the caller's own DMA memory included, so their callers are not
   * told yet. It is reset first (VirtioDevice.fail(): it lets go of every buffer,
   * the driver's remove fails the requests with the ring's error and frees their memory)
   * and left FAILED until restart(). If the reset does not complete, the callers are told
   * anyway; the memory stays held.
   */
  #ringBroke(error: Error): void {
    this.#fault(error);
    this.#ringFailure = error;
    this.#fastQueue = null;
    this.#syncFast();
    const bq = this.#bq;
    void this.#device.fail(error, () => this.#bq === bq && bq !== null).then((ok) => {
      if (!ok) bq?.failHeld();
    });
  }

  /** Records a device fault on the core (shown by `devices`) and tells onError, once. */
  #fault(error: Error): void {
    if (this.#reported === error) return;
    this.#reported = error;
    this.#device.reportError(error);
    try {
      this.#onError?.(error);
    } catch {
      // a throwing callback must not reach the event loop
    }
  }

  // ---- requests ----

  async #read(lba: number, count: number, into?: BlockBuffer): Promise<Uint8Array> {
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
    await runPieces(count, per, (done, n, group) => this.#transfer(BlkRequestType.IN, lba + done, n, target, done * SECTOR_SIZE, dma, group));
    return target;
  }

  async #write(lba: number, data: BlockBuffer): Promise<void> {
    const dma = isDmaBuffer(data) ? data : null;
    const source = dma !== null ? dma.bytes.subarray(0, dma.size) : (data as Uint8Array);
    if (source.length === 0 || source.length % SECTOR_SIZE !== 0) {
      throw new BlkBufferError(this.location, source.length, `not a positive multiple of ${SECTOR_SIZE}`);
    }
    const count = source.length / SECTOR_SIZE;
    this.#checkRange(lba, count, "write");
    if (this.readOnly) throw new BlkReadOnlyError(this.location, "write");
    const per = dma !== null ? this.#perDirect : this.#perBounce;
    await runPieces(count, per, (done, n, group) => this.#transfer(BlkRequestType.OUT, lba + done, n, source, done * SECTOR_SIZE, dma, group));
  }

  /** Sectors per request: size_max × seg_max (§5.2.6.1), within maxRequestBytes and
   * within the queue: a chain is never longer than the queue size, indirect or not
   * (§2.7.5.3.1), and without indirect descriptors it fits the descriptors the prepared
   * chains leave (header and status take two). */
  #sectorsPerRequest(direct: boolean): number {
    const c = this.#config;
    const cap = direct ? this.#maxDirectRequestBytes : this.#maxRequestBytes;
    const segs = this.#maxSegments();
    const sizeMax = c?.sizeMax ?? cap;
    const bytes = Math.min(cap, segs * sizeMax);
    return Math.max(1, Math.floor(bytes / SECTOR_SIZE));
  }

  /** Data descriptors one request may have: seg_max, and the queue's room (§5.2.6.1). */
  #maxSegments(): number {
    let segs = this.#config?.segMax ?? 1;
    if (this.#queueSize > 0) {
      const room = this.#indirect ? this.#queueSize : this.#queueSize - this.#reservedDescs;
      segs = Math.max(1, Math.min(segs, room - 2));
    }
    return segs;
  }

  /** The data descriptors of one piece, under the limits of the device as it is set up now
   * (size_max, seg_max: §5.2.6.1). A piece planned before a re-initialization that shrank
   * them may no longer fit: it fails with a clear error rather than break a rule. */
  #dataSegments(phys: number, length: number): BufferRef[] {
    const data = segments(phys, length, this.#sizeMax ?? length);
    const most = this.#maxSegments();
    if (data.length > most) {
      throw new BlkConfigError(this.location, "seg_max", most, `a ${length}-byte request planned before the device was re-initialized needs ${data.length} data segments`);
    }
    return data;
  }

  #checkUsable(): void {
    if (this.#givenUp !== null) throw this.#givenUp;
    if (this.#closed) throw new DeviceRemovedError(this.location, "device unbound");
    if (this.#ringFailure !== null) throw this.#ringFailure;
    const bq = this.#bq;
    if (bq === null || !this.#live) throw new DeviceStateError(this.location, this.#device.step, "send block requests");
    if (bq.failure !== null) throw bq.failure;
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
  async #transfer(type: number, sector: number, count: number, bytes: Uint8Array, offset: number, dma: DmaBuffer | null, group: PieceGroup): Promise<void> {
    const isRead = type === BlkRequestType.IN;
    const length = count * SECTOR_SIZE;
    const pool = this.#platform.dma;
    // size_max is read when the chain is built, not now: a re-initialization while this
    // request waits (for bounce memory or a slot) may have changed it (§5.2.6.1).
    const account = (): void => {
      if (isRead) this.#stats.sectorsRead += count;
      else this.#stats.sectorsWritten += count;
    };
    if (dma !== null) {
      await this.#request(type, sector, () => {
        const data = this.#dataSegments(dma.phys + offset, length);
        return { readable: isRead ? [] : data, writable: isRead ? data : [], expectIn: isRead ? length : 0, finish: account };
      }, group);
      return;
    }
    // No await when the bounce memory fits: requests of one call are enqueued in one turn.
    const wait = this.#bounce.take(length);
    if (wait !== null) await wait;
    let given = false;
    let sent = false;
    const give = (): void => {
      if (!given) this.#bounce.give(length);
      given = true;
    };
    try {
      await this.#request(type, sector, () => {
        const bounce = pool.alloc(length, 64);
        let data: BufferRef[];
        try {
          data = this.#dataSegments(bounce.phys, length);
        } catch (error) {
          pool.free(bounce);
          throw error;
        }
        if (!isRead) bounce.bytes.set(bytes.subarray(offset, offset + length));
        sent = true; // from here the chain goes out: cleanup gives the memory back
        return {
          readable: isRead ? [] : data, writable: isRead ? data : [], expectIn: isRead ? length : 0,
          // Copied only while the call is live: once it settled, the caller's memory is theirs.
          finish: () => {
            if (isRead) bytes.set(bounce.bytes.subarray(0, length), offset);
            account();
          },
          // Back to the pool only once the device gave the chain back or was reset.
          cleanup: () => {
            pool.free(bounce);
            give();
          },
        };
      }, group);
    } catch (error) {
      if (!sent) give(); // never sent: the budget goes back now
      throw error;
    }
  }

  /** DISCARD / WRITE_ZEROES over [lba, lba+count): one range of at most `maxSectors` per request. */
  async #ranges(type: number, operation: string, feature: string, bit: number, maxSectors: number, lba: number, count: number, flags: number): Promise<void> {
    this.#checkRange(lba, count, operation);
    if (!hasFeature(this.#features, bit)) throw new BlkUnsupportedError(this.location, operation, feature);
    if (this.readOnly) throw new BlkReadOnlyError(this.location, operation);
    const pool = this.#platform.dma;
    await runPieces(count, maxSectors, (done, n, group) => this.#request(type, 0, () => discardRange(pool, lba + done, n, flags), group));
  }

  /**
   * Sends one request on the general path: waits for a slot, builds the payload (`build`
   * may allocate; its `cleanup` runs once the device no longer holds the chain), posts
   * the chain (kicked once per batch); the queue checks the used length and the status.
   */
  async #request<T = void>(type: number, sector: number, build: () => Built<T>, group?: PieceGroup): Promise<T> {
    this.#checkUsable();
    const bq = this.#bq!;
    let slot = bq.take();
    if (slot < 0) slot = await bq.waitSlot();
    let built: Built<T>;
    try {
      if (group?.failed) throw group.failed; // a sibling failed: this piece is not sent
      if (bq.failure !== null) throw bq.failure;
      built = build();
    } catch (error) {
      bq.giveBack(slot);
      throw error;
    }
    this.#stats.requests++;
    return new Promise<T>((resolve, reject) => {
      bq.submit(slot, type, sector, built.readable, built.writable, built.expectIn, {
        settle: (error, len) => {
          if (error !== null) {
            // Siblings of a multi-piece call see it at once: none is sent after this.
            if (group !== undefined) group.failed ??= error;
            return reject(error);
          }
          try {
            resolve(built.finish ? built.finish(len) : (undefined as T));
          } catch (e) {
            reject(asError(e));
          }
        },
        release: () => built.cleanup?.(),
      });
    });
  }

  /** `count` requests timed out: the device stopped answering. Their slots stay held;
   * the reset that follows takes the chains back and fails them with their timeout. */
  #expired(count: number): void {
    this.#stats.timeouts += count;
    this.#fault(new RequestTimeoutError(this.location, this.#timeoutMs));
    const bq = this.#bq;
    if (this.#givenUp !== null || this.#closed) return;
    // If no reset comes (it failed), the callers are told anyway; the memory stays held.
    const afterReset = (ok: boolean): void => {
      if (!ok) bq?.failHeld();
    };
    if (this.#stats.restarts >= this.#maxRestarts) {
      // A device that keeps hanging is not re-initialized for ever: it is given up on.
      // Unbinding resets it (it gives back its chains and their memory, §2.4) and leaves
      // it unbound; every later request fails at once with this error.
      this.#givenUp = new DeviceBrokenError(this.location, `requests timed out after ${this.#stats.restarts} re-initialization(s): given up`);
      this.#fastQueue = null;
      this.#syncFast();
      this.#fault(this.#givenUp);
      void this.#device.unbind().then(afterReset);
      return;
    }
    this.#stats.restarts++;
    // The chains stay with the device until it is reset: re-initialize it, which takes
    // them back and frees their memory (remove -> detach).
    void this.#device.restart().then(afterReset);
  }
}
