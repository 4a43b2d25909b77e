// virtio-blk (VIRTIO 1.2 §5.2) over an in-memory disk image: one requestq, the
// configuration of §5.2.4, requests IN, OUT, FLUSH, GET_ID, DISCARD and WRITE_ZEROES
// (§5.2.6). Strict: a request the driver must not send (no readable header, no
// writable status byte, data that is not whole sectors, more segments than seg_max,
// a segment larger than size_max, sectors past the end, a write to a read-only disk,
// a flush with data, a type not negotiated) is recorded as a violation and answered as
// a device would (IOERR or UNSUPP). Written from the spec, apart from the driver.

import type { DeviceChain, Segment } from "../chain.js";
import type { DeviceContext, DeviceModel } from "../device-model.js";
import { WritebackCache } from "./blk-cache.js";
import {
  BLK_F, BLK_S, BLK_SECTOR, BLK_T, CONFIG_SIZE, FIELDS, VIRTIO_ID_BLOCK,
  type BlkCounters, type BlkDeviceOptions, type BlkFaults, type BlkShapes, type DiscardLimits, type WriteZeroesLimits,
} from "./blk-device-spec.js";

export {
  BLK_F, BLK_S, BLK_SECTOR, BLK_T, VIRTIO_ID_BLOCK,
  type BlkCounters, type BlkDeviceOptions, type BlkFaults, type BlkShapes, type DiscardLimits, type WriteZeroesLimits,
} from "./blk-device-spec.js";

export class BlkDevice implements DeviceModel {
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly name = "blk";
  readonly queueCount = 1;
  readonly features: bigint;
  readonly config = new Uint8Array(CONFIG_SIZE);
  readonly configFields = FIELDS;
  readonly faults: BlkFaults = { status: null, badSectors: new Set(), usedLength: null, hang: false, failFlushes: 0 };
  readonly counters: BlkCounters = { reads: 0, writes: 0, flushes: 0, getIds: 0, discards: 0, writeZeroes: 0, errors: 0, unflushedBytes: 0 };
  readonly shapes: BlkShapes = { maxSegments: 0, maxTransfer: 0, maxBatch: 0 };
  #image: Uint8Array;
  readonly #cache: WritebackCache | null;
  /** The power was cut: the device serves nothing any more. */
  #off = false;
  readonly #options: BlkDeviceOptions;
  readonly #view: DataView;
  #ctx: DeviceContext | null = null;

  constructor(options: BlkDeviceOptions = {}) {
    this.#options = options;
    this.#image = options.image ?? new Uint8Array((options.capacity ?? 2048) * BLK_SECTOR);
    this.#cache = options.writeback ? new WritebackCache() : null;
    if (this.#image.length % BLK_SECTOR !== 0) throw new RangeError(`image of ${this.#image.length} bytes is not whole sectors`);
    const id = options.id ?? "virtio-xs-model";
    if (id.length > 20) throw new RangeError(`id "${id}" is longer than 20 bytes`);
    let f = 0n;
    const offer = (bit: number) => (f |= 1n << BigInt(bit));
    if (options.sizeMax !== undefined) offer(BLK_F.SIZE_MAX);
    if (options.segMax !== null) offer(BLK_F.SEG_MAX);
    if (options.blkSize !== null) offer(BLK_F.BLK_SIZE);
    if (options.readOnly) offer(BLK_F.RO);
    if (options.flush ?? true) offer(BLK_F.FLUSH);
    const discard = options.discard ?? true;
    const zeroes = options.writeZeroes ?? true;
    const dl: DiscardLimits = typeof discard === "object" ? discard : {};
    const zl: WriteZeroesLimits = typeof zeroes === "object" ? zeroes : {};
    if (discard !== false) offer(BLK_F.DISCARD);
    if (zeroes !== false) offer(BLK_F.WRITE_ZEROES);
    if (options.geometry) offer(BLK_F.GEOMETRY);
    if (options.topology) offer(BLK_F.TOPOLOGY);
    this.features = f;
    this.#view = new DataView(this.config.buffer);
    const v = this.#view;
    this.#setCapacity();
    v.setUint32(8, options.sizeMax ?? 0, true);
    v.setUint32(12, options.segMax ?? 254, true);
    v.setUint16(16, 1024, true);
    v.setUint8(18, 16);
    v.setUint8(19, 63);
    v.setUint32(20, options.blkSize ?? 512, true);
    v.setUint16(26, 1, true);
    v.setUint32(28, 0, true);
    v.setUint8(32, 1);
    v.setUint16(34, 1, true);
    v.setUint32(36, dl.maxSectors ?? 0x3fffff, true);
    v.setUint32(40, dl.maxSeg ?? 1, true);
    v.setUint32(44, dl.sectorAlignment ?? 1, true);
    v.setUint32(48, zl.maxSectors ?? 0x3fffff, true);
    v.setUint32(52, zl.maxSeg ?? 1, true);
    v.setUint8(56, zl.mayUnmap === false ? 0 : 1);
  }

  /** The disk as it is now (writes land here; in power-cut mode, flushed writes only). */
  get image(): Uint8Array {
    return this.#image;
  }

  /** Power-cut mode: sectors written since the last flush (0 without the cache). */
  get unflushedSectors(): number {
    return this.#cache?.dirtySectors ?? 0;
  }

  /** Power-cut mode: the power goes. What was not flushed is lost, except the sectors
   * `persist` picks (the drive wrote them back on its own); returns how many it kept.
   * The device forgets its requests in flight: the machine is gone. */
  powerCut(persist?: (sector: number) => boolean): number {
    const kept = this.#cache?.cut(this.#image, persist) ?? 0;
    this.#off = true; // nothing more is served: the image is the next machine's
    return kept;
  }

  /** Capacity in 512-byte sectors. */
  get capacity(): number {
    return this.#image.length / BLK_SECTOR;
  }

  queueMaxSize(): number {
    return this.#options.queueMaxSize ?? 256;
  }

  bind(context: DeviceContext): void {
    this.#ctx = context;
  }

  reset(): void {}

  writeConfig(offset: number, width: number, value: number): boolean {
    // writeback is writable only with CONFIG_WCE (§5.2.5), which this model does not offer.
    void offset; void width; void value;
    return false;
  }

  /** Grows or shrinks the disk (as QMP block_resize) and signals a configuration change. */
  resize(sectors: number): void {
    if (!Number.isInteger(sectors) || sectors < 0) throw new RangeError(`bad sector count ${sectors}`);
    const next = new Uint8Array(sectors * BLK_SECTOR);
    next.set(this.#image.subarray(0, Math.min(next.length, this.#image.length)));
    this.#image = next;
    this.#cache?.truncate(sectors);
    this.#setCapacity();
    this.#ctx?.configChanged();
  }

  /** Sets a raw configuration field (a hostile device), little-endian, without notice. */
  setConfig32(offset: number, value: number): void {
    this.#view.setUint32(offset, value >>> 0, true);
  }

  process(queue: number): void {
    if (this.#off) return;
    const ctx = this.#ctx!;
    const batch: [DeviceChain, number][] = [];
    for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) {
      const written = this.#serve(chain);
      if (written !== null) batch.push([chain, written]);
    }
    if (batch.length === 0 || this.faults.hang) return;
    this.shapes.maxBatch = Math.max(this.shapes.maxBatch, batch.length);
    if (this.#options.outOfOrder) batch.reverse();
    const finish = (): void => {
      for (const [chain, written] of batch) ctx.complete(chain, this.faults.usedLength === null ? written : Math.min(this.faults.usedLength, chain.writableLength));
    };
    const delay = this.#options.delayTurns ?? 0;
    if (delay > 0) ctx.later(finish, delay);
    else finish();
  }

  #setCapacity(): void {
    const sectors = this.capacity;
    this.#view.setUint32(0, sectors % 0x1_0000_0000, true); // capacity, le64 low
    this.#view.setUint32(4, Math.floor(sectors / 0x1_0000_0000), true); // high
  }

  #violation(rule: string, message: string): void {
    this.#ctx!.violation(rule, message);
  }

  /** Serves one request; returns the used length (every writable byte, as QEMU reports). */
  #serve(chain: DeviceChain): number | null {
    const r = `request ${chain.head}`;
    // §5.2.6: header first (device-readable, 16 bytes), status byte last (device-writable).
    if (chain.readableLength < 16) {
      this.#violation("blk-header-missing", `${r}: ${chain.readableLength} device-readable bytes, the header needs 16 (§5.2.6)`);
      if (chain.writableLength === 0) return 0;
      return this.#answer(chain, BLK_S.IOERR, null);
    }
    if (chain.writableLength < 1) {
      this.#violation("blk-status-missing", `${r}: no device-writable byte for the status (§5.2.6)`);
      return 0;
    }
    const readable = chain.read();
    const hv = new DataView(readable.buffer, readable.byteOffset, readable.byteLength);
    const type = hv.getUint32(0, true); // type, le32
    const sector = Number(hv.getBigUint64(8, true)); // sector, le64
    const dataOut = readable.subarray(16);
    const dataInLength = chain.writableLength - 1;
    const has = (bit: number) => (this.#ctx!.driverFeatures & (1n << BigInt(bit))) !== 0n;
    const c = this.counters;

    switch (type) {
      case BLK_T.IN: {
        if (dataOut.length > 0) this.#violation("blk-data-direction", `${r}: a read carries ${dataOut.length} device-readable data bytes (§5.2.6)`);
        if (!this.#checkData(r, this.#dataSegments(chain.writable, 0, 1), dataInLength)) return this.#answer(chain, BLK_S.IOERR, null);
        if (!this.#inRange(sector, dataInLength) || this.#bad(sector, dataInLength)) return this.#answer(chain, BLK_S.IOERR, null);
        const at = sector * BLK_SECTOR;
        chain.write(this.#cache ? this.#cache.read(this.#image, sector, dataInLength) : this.#image.subarray(at, at + dataInLength));
        return this.#answer(chain, BLK_S.OK, "reads");
      }
      case BLK_T.OUT: {
        if (dataInLength > 0) this.#violation("blk-data-direction", `${r}: a write carries ${dataInLength} device-writable data bytes (§5.2.6)`);
        if (!this.#checkData(r, this.#dataSegments(chain.readable, 16, 0), dataOut.length)) return this.#answer(chain, BLK_S.IOERR, null);
        // §5.2.6.2: a read-only device fails writes (IOERR) and writes nothing.
        if (has(BLK_F.RO) || !this.#inRange(sector, dataOut.length) || this.#bad(sector, dataOut.length)) {
          return this.#answer(chain, BLK_S.IOERR, null);
        }
        if (this.faults.status === null || this.faults.status === BLK_S.OK) {
          if (this.#cache) this.#cache.write(sector, dataOut);
          else this.#image.set(dataOut, sector * BLK_SECTOR);
          c.unflushedBytes += dataOut.length;
        }
        return this.#answer(chain, BLK_S.OK, "writes");
      }
      case BLK_T.FLUSH: {
        if (!has(BLK_F.FLUSH)) {
          this.#violation("blk-type-not-negotiated", `${r}: FLUSH without VIRTIO_BLK_F_FLUSH (§5.2.6.1)`);
          return this.#answer(chain, BLK_S.UNSUPP, null);
        }
        if (sector !== 0) this.#violation("blk-flush-sector", `${r}: FLUSH with sector ${sector}, must be 0 (§5.2.6.1)`);
        if (dataOut.length > 0 || dataInLength > 0) this.#violation("blk-flush-data", `${r}: FLUSH with ${dataOut.length + dataInLength} data bytes (§5.2.6.1)`);
        if (this.faults.failFlushes > 0) {
          this.faults.failFlushes--;
          return this.#answer(chain, BLK_S.IOERR, null);
        }
        const status = this.#answer(chain, BLK_S.OK, "flushes");
        if (this.faults.status === null || this.faults.status === BLK_S.OK) {
          c.unflushedBytes = 0;
          this.#cache?.flush(this.#image);
        }
        return status;
      }
      case BLK_T.GET_ID: {
        if (dataInLength !== 20) this.#violation("blk-get-id-size", `${r}: GET_ID with a ${dataInLength}-byte buffer, not 20 (§5.2.6)`);
        const id = new Uint8Array(20);
        const text = this.#options.id ?? "virtio-xs-model";
        for (let i = 0; i < text.length; i++) id[i] = text.charCodeAt(i) & 0x7f;
        chain.write(id.subarray(0, Math.min(20, dataInLength)));
        return this.#answer(chain, BLK_S.OK, "getIds");
      }
      case BLK_T.DISCARD:
      case BLK_T.WRITE_ZEROES:
        return this.#ranges(chain, type, dataOut);
      default:
        return this.#answer(chain, BLK_S.UNSUPP, null);
    }
  }

  /** Writes the status byte (the last writable byte; a fault may force it) and counts. */
  #answer(chain: DeviceChain, status: number, counter: keyof BlkCounters | null): number {
    const sent = this.faults.status ?? status;
    chain.write(Uint8Array.of(sent), chain.writableLength - 1);
    if (sent === BLK_S.OK && counter !== null) this.counters[counter]++;
    else if (sent !== BLK_S.OK) this.counters.errors++;
    return chain.writableLength;
  }

  #ranges(chain: DeviceChain, type: number, data: Uint8Array): number {
    const r = `request ${chain.head}`;
    const discard = type === BLK_T.DISCARD;
    const bit = discard ? BLK_F.DISCARD : BLK_F.WRITE_ZEROES;
    const name = discard ? "DISCARD" : "WRITE_ZEROES";
    const features = this.#ctx!.driverFeatures;
    if ((features & (1n << BigInt(bit))) === 0n) {
      this.#violation("blk-type-not-negotiated", `${r}: ${name} without VIRTIO_BLK_F_${name} (§5.2.6.1)`);
      return this.#answer(chain, BLK_S.UNSUPP, null);
    }
    if (features & (1n << BigInt(BLK_F.RO))) return this.#answer(chain, BLK_S.IOERR, null);
    const v = this.#view;
    const maxSectors = v.getUint32(discard ? 36 : 48, true);
    const maxSeg = v.getUint32(discard ? 40 : 52, true);
    if (data.length === 0 || data.length % 16 !== 0) {
      this.#violation("blk-range-malformed", `${r}: ${name} data of ${data.length} bytes, not whole 16-byte ranges (§5.2.6)`);
      return this.#answer(chain, BLK_S.IOERR, null);
    }
    const count = data.length / 16;
    if (count > maxSeg) return this.#answer(chain, BLK_S.IOERR, null);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const spans: [number, number][] = [];
    for (let k = 0; k < count; k++) {
      const sector = Number(dv.getBigUint64(16 * k, true)); // sector, le64
      const n = dv.getUint32(16 * k + 8, true); // num_sectors, le32
      const flags = dv.getUint32(16 * k + 12, true); // flags, le32
      if (discard && flags !== 0) this.#violation("blk-discard-flags", `${r}: DISCARD range with flags 0x${flags.toString(16)}, must be 0 (§5.2.6.1)`);
      if (n > maxSectors || !this.#inRange(sector, n * BLK_SECTOR)) return this.#answer(chain, BLK_S.IOERR, null);
      spans.push([sector, n]);
    }
    if (this.faults.status === null || this.faults.status === BLK_S.OK) {
      // A discarded range reads back as zeroes here (the spec leaves its content open).
      for (const [sector, n] of spans) {
        if (this.#cache) this.#cache.zero(sector, n);
        else this.#image.fill(0, sector * BLK_SECTOR, (sector + n) * BLK_SECTOR);
        this.counters.unflushedBytes += n * BLK_SECTOR;
      }
    }
    return this.#answer(chain, BLK_S.OK, discard ? "discards" : "writeZeroes");
  }

  /** Lengths of the data segments: the segments' bytes minus `front` at the start (the
   * header) and `back` at the end (the status byte). */
  #dataSegments(segments: readonly Segment[], front: number, back: number): number[] {
    const total = segments.reduce((n, s) => n + s.len, 0);
    let skip = front;
    let remaining = Math.max(0, total - front - back);
    const out: number[] = [];
    for (const s of segments) {
      let len = s.len;
      const cut = Math.min(skip, len);
      skip -= cut;
      len -= cut;
      const n = Math.min(len, remaining);
      if (n > 0) out.push(n);
      remaining -= n;
    }
    return out;
  }

  /** seg_max, size_max and whole sectors (§5.2.6.1). */
  #checkData(r: string, segs: number[], length: number): boolean {
    this.shapes.maxSegments = Math.max(this.shapes.maxSegments, segs.length);
    this.shapes.maxTransfer = Math.max(this.shapes.maxTransfer, length);
    const has = (bit: number) => (this.#ctx!.driverFeatures & (1n << BigInt(bit))) !== 0n;
    if (has(BLK_F.SEG_MAX)) {
      const segMax = this.#view.getUint32(12, true);
      if (segs.length > segMax) this.#violation("blk-too-many-segments", `${r}: ${segs.length} data segments, seg_max is ${segMax} (§5.2.6.1)`);
    }
    if (has(BLK_F.SIZE_MAX)) {
      const sizeMax = this.#view.getUint32(8, true);
      const big = segs.find((n) => n > sizeMax);
      if (big !== undefined) this.#violation("blk-segment-too-large", `${r}: a ${big}-byte segment, size_max is ${sizeMax} (§5.2.6.1)`);
    }
    if (length === 0 || length % BLK_SECTOR !== 0) {
      this.#violation("blk-unaligned-length", `${r}: ${length} data bytes, not a whole number of 512-byte sectors (§5.2.6.1)`);
      return false;
    }
    return true;
  }

  /** Sectors past the end are a status (IOERR), not a driver violation: the capacity may
   * have just shrunk under a request in flight. */
  #inRange(sector: number, length: number): boolean {
    return sector + Math.ceil(length / BLK_SECTOR) <= this.capacity;
  }

  #bad(sector: number, length: number): boolean {
    if (this.faults.badSectors.size === 0) return false;
    const end = sector + length / BLK_SECTOR;
    for (const s of this.faults.badSectors) if (s >= sector && s < end) return true;
    return false;
  }
}
