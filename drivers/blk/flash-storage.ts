// A flash partition in the shape of ECMA-419's `embedded:storage/flash` over a BlockDevice:
// `status()`, `read(count | buffer, offset)`, `write(data, offset)`, `eraseBlock(from[, to])`,
// `close()`, opened with `{ path, mode, format }` (apps/provider: device.storage.flash).
// Synchronous, as the standard's are: each call sends its requests and polls the used ring
// until they are back (polled-io.ts, as U-Boot does), so it needs a device that completes
// while the CPU spins (QEMU; the host model with `processing: "sync"`).
//
// Where a disk differs from NOR flash, and what this does:
// - write() overwrites (no erase is needed first, no bits are ANDed); eraseBlock() sets the
//   blocks to 0xFF, the erased state flash users expect.
// - Durability: a disk with a writeback cache (VIRTIO_BLK_F_FLUSH) may lose completed
//   writes at power-off. Flash is durable once a write returns, so write() and eraseBlock()
//   end with a FLUSH, and close() flushes once more.
// - Byte offsets and lengths need not be sector-aligned: partial sectors are read, merged
//   and written back.

import type { Platform } from "../../platform/platform.js";
import type { BlockDevice } from "./block-device.js";
import { SECTOR_SIZE } from "./blk-spec.js";
import { BlkReadOnlyError } from "./errors.js";
import { PolledBlockIo } from "./polled-io.js";

export interface FlashOpenOptions {
  /** The block device (or use openFlash(driver, { path: "blk0" })). */
  readonly device: BlockDevice;
  /** The platform: its clock bounds the polling, its DMA pool holds the request area. */
  readonly platform: Platform;
  /** "r" read only, "r+" read and write (default, as ECMA-419). */
  readonly mode?: "r" | "r+";
  /** "buffer", the only format ECMA-419 defines for flash. */
  readonly format?: "buffer";
  /** Start of the partition on the disk, in bytes (a multiple of 512; default 0). */
  readonly offset?: number;
  /** Partition size in bytes (default: the rest of the disk, rounded down to whole blocks). */
  readonly size?: number;
  /** Erase block size in bytes (a power of two ≥ the disk's block size; default 4096). */
  readonly blockLength?: number;
  /** Longest wait for one request, in ms (default 10000): then RequestTimeoutError. */
  readonly timeoutMs?: number;
  /** Stored as-is on the instance (ECMA-419 `target`). */
  readonly target?: unknown;
}

/** What status() returns (ECMA-419). */
export interface FlashStatus {
  /** Bytes in the partition. */
  readonly size: number;
  /** Bytes per erase block. */
  readonly blockLength: number;
  /** Number of erase blocks. */
  readonly blocks: number;
}

/** A closed partition was used. */
export class FlashClosedError extends Error {
  constructor() {
    super("flash partition is closed");
    this.name = "FlashClosedError";
  }
}

const ERASE_CHUNK = 64 * 1024;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function bytesOf(data: ArrayBuffer | ArrayBufferView, what: string): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`flash: ${what} takes an ArrayBuffer, a typed array or a DataView`);
}

export class FlashStorage {
  /** ECMA-419: options.target, as given. */
  readonly target: unknown;
  readonly #device: BlockDevice;
  readonly #writable: boolean;
  readonly #base: number;
  readonly #size: number;
  readonly #blockLength: number;
  #io: PolledBlockIo | null;
  /** Writes since the last FLUSH reached the device. */
  #dirty = false;

  /** Checks every option before using the device (ECMA-419: bad options throw). */
  constructor(options: FlashOpenOptions) {
    const device = options?.device;
    if (device === undefined || device === null) throw new TypeError("flash: options.device is required");
    if (options.platform === undefined || options.platform === null) throw new TypeError("flash: options.platform is required");
    const mode = options.mode ?? "r+";
    if (mode !== "r" && mode !== "r+") throw new RangeError(`flash: mode "${String(mode)}" must be "r" or "r+"`);
    const format = options.format ?? "buffer";
    if (format !== "buffer") throw new RangeError(`flash: format "${String(format)}" is not supported (only "buffer")`);
    const info = device.info;
    const blockLength = options.blockLength ?? Math.max(4096, info.blockSize);
    if (!isPowerOfTwo(blockLength) || blockLength < SECTOR_SIZE) throw new RangeError(`flash: blockLength ${blockLength} must be a power of two ≥ ${SECTOR_SIZE}`);
    const base = options.offset ?? 0;
    if (!Number.isSafeInteger(base) || base < 0 || base % SECTOR_SIZE !== 0) throw new RangeError(`flash: offset ${base} must be a non-negative multiple of ${SECTOR_SIZE}`);
    const room = info.bytes - base;
    const size = options.size ?? Math.floor(room / blockLength) * blockLength;
    if (!Number.isSafeInteger(size) || size <= 0 || size % blockLength !== 0 || size > room) {
      throw new RangeError(`flash: size ${size} must be a positive multiple of blockLength ${blockLength} within the disk's ${room} bytes after offset ${base}`);
    }
    if (mode === "r+" && info.readOnly) throw new BlkReadOnlyError(device.location, 'open in mode "r+"');
    const io = new PolledBlockIo(device, options.platform, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    this.target = options.target;
    this.#device = device;
    this.#writable = mode === "r+";
    this.#base = base;
    this.#size = size;
    this.#blockLength = blockLength;
    this.#io = io;
  }

  status(): FlashStatus {
    this.#open();
    return { size: this.#size, blockLength: this.#blockLength, blocks: this.#size / this.#blockLength };
  }

  /** Reads `count` bytes at `offset` into a new ArrayBuffer, or fills `buffer` (an
   * ArrayBuffer or a view) and returns the bytes read. */
  read(count: number, offset: number): ArrayBuffer;
  read(buffer: ArrayBuffer | ArrayBufferView, offset: number): number;
  read(what: number | ArrayBuffer | ArrayBufferView, offset: number): ArrayBuffer | number {
    const io = this.#open();
    if (typeof what === "number") {
      this.#range(offset, what, "read");
      const out = new ArrayBuffer(what);
      this.#readBytes(io, this.#base + offset, new Uint8Array(out));
      return out;
    }
    const target = bytesOf(what, "read()");
    this.#range(offset, target.length, "read");
    this.#readBytes(io, this.#base + offset, target);
    return target.length;
  }

  /** Writes `data` at `offset` (any alignment); durable when it returns (FLUSH). */
  write(data: ArrayBuffer | ArrayBufferView, offset: number): void {
    const io = this.#open();
    if (!this.#writable) throw new BlkReadOnlyError(this.#device.location, 'write: the partition was opened in mode "r"');
    const bytes = bytesOf(data, "write()");
    this.#range(offset, bytes.length, "write");
    this.#writeBytes(io, this.#base + offset, bytes);
    this.#flush(io);
  }

  /** Erases blocks `from` to `to` - 1 (just `from` without `to`): they read 0xFF after. */
  eraseBlock(from: number, to: number = from + 1): void {
    const io = this.#open();
    if (!this.#writable) throw new BlkReadOnlyError(this.#device.location, 'eraseBlock: the partition was opened in mode "r"');
    const blocks = this.#size / this.#blockLength;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to <= from || to > blocks) {
      throw new RangeError(`flash: eraseBlock(${from}, ${to}) outside blocks 0..${blocks - 1}`);
    }
    const start = this.#base + from * this.#blockLength;
    const length = (to - from) * this.#blockLength;
    const ones = new Uint8Array(Math.min(length, ERASE_CHUNK)).fill(0xff);
    for (let done = 0; done < length; done += ones.length) {
      this.#dirty = true;
      io.write((start + done) / SECTOR_SIZE, ones.subarray(0, Math.min(ones.length, length - done)));
    }
    this.#flush(io);
  }

  /** Flushes what is not yet durable and lets go of the partition; safe to call twice.
   * Later calls throw FlashClosedError. */
  close(): void {
    const io = this.#io;
    if (io === null) return;
    this.#io = null;
    try {
      if (this.#dirty) io.flush();
    } finally {
      io.close();
    }
  }

  #open(): PolledBlockIo {
    if (this.#io === null) throw new FlashClosedError();
    return this.#io;
  }

  #flush(io: PolledBlockIo): void {
    io.flush();
    this.#dirty = false;
  }

  #range(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0 || offset + length > this.#size) {
      throw new RangeError(`flash: ${what} of ${length} bytes at ${offset} is outside the partition's ${this.#size} bytes`);
    }
  }

  /** Reads disk bytes [at, at + target.length) through whole sectors. */
  #readBytes(io: PolledBlockIo, at: number, target: Uint8Array): void {
    if (target.length === 0) return;
    const first = Math.floor(at / SECTOR_SIZE);
    const last = Math.floor((at + target.length - 1) / SECTOR_SIZE);
    const skip = at - first * SECTOR_SIZE;
    if (skip === 0 && target.length % SECTOR_SIZE === 0) return io.read(first, target);
    const sectors = new Uint8Array((last - first + 1) * SECTOR_SIZE);
    io.read(first, sectors);
    target.set(sectors.subarray(skip, skip + target.length));
  }

  /** Writes disk bytes at `at`; partial sectors at either end are read and merged first. */
  #writeBytes(io: PolledBlockIo, at: number, data: Uint8Array): void {
    if (data.length === 0) return;
    this.#dirty = true;
    const first = Math.floor(at / SECTOR_SIZE);
    const last = Math.floor((at + data.length - 1) / SECTOR_SIZE);
    const skip = at - first * SECTOR_SIZE;
    if (skip === 0 && data.length % SECTOR_SIZE === 0) return io.write(first, data);
    const sectors = new Uint8Array((last - first + 1) * SECTOR_SIZE);
    io.read(first, sectors.subarray(0, SECTOR_SIZE));
    if (last > first) io.read(last, sectors.subarray(sectors.length - SECTOR_SIZE));
    sectors.set(data, skip);
    io.write(first, sectors);
  }
}

/** Anything with the BlkDriver's `devices()`. */
export interface BlockDeviceSource {
  devices(): readonly BlockDevice[];
}

/**
 * `flash.open({ path, mode, format })` in ECMA-419's words: `path` names a block device
 * as "blk0", "blk1", ... (its index in `driver.devices()`).
 */
export function openFlash(driver: BlockDeviceSource, options: { readonly path: string } & Omit<FlashOpenOptions, "device">): FlashStorage {
  const match = /^blk(\d+)$/.exec(String(options?.path));
  if (match === null) throw new RangeError(`flash: path "${String(options?.path)}" must name a block device: blk0, blk1, ...`);
  const device = driver.devices()[Number(match[1])];
  if (device === undefined) throw new RangeError(`flash: no block device ${match[1]}`);
  const { path: _path, ...rest } = options;
  return new FlashStorage({ ...rest, device });
}
