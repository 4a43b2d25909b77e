// A flash partition in the shape of ECMA-419's `embedded:storage/flash` (2nd edition,
// "Persistent Storage: Flash") over a BlockDevice, for Moddable code that stores raw data:
// `status()`, `read(count | buffer, offset)`, `write(data, offset)`,
// `eraseBlock(from[, to])`, `close()`, opened with `{ path, mode, format }`.
//
// Where this differs from ECMA-419, and why:
// - read, write and eraseBlock return promises: ECMA-419's flash is synchronous (memory
//   mapped), but a virtio disk answers through its queue and the event loop, and XS has a
//   single thread, so a synchronous call could never see its completion. status() and
//   close() stay synchronous.
// - A disk is not NOR flash: write() overwrites (no erase is needed first, no bits are
//   ANDed); eraseBlock() sets the blocks to 0xFF, the erased state flash users expect.
// - Errors (bad ranges, a closed partition, a read-only mode) reject the promise rather
//   than throw, so one `await` catches them all.
// - Byte offsets and lengths need not be sector-aligned: partial sectors are read,
//   merged and written back (writes are done one at a time, so such merges never race).

import type { BlockDevice } from "./block-device.js";
import { SECTOR_SIZE } from "./blk-spec.js";
import { BlkReadOnlyError } from "./errors.js";

export interface FlashOpenOptions {
  /** The block device (or use openFlash(driver, { path: "blk0" })). */
  readonly device: BlockDevice;
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

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export class FlashStorage {
  readonly #device: BlockDevice;
  readonly #writable: boolean;
  readonly #base: number;
  readonly #size: number;
  readonly #blockLength: number;
  #closed = false;
  /** Writes and erases run one at a time (read-modify-write of partial sectors). */
  #writes: Promise<unknown> = Promise.resolve();

  /** Checks every option before using the device (ECMA-419: bad options throw). */
  constructor(options: FlashOpenOptions) {
    const device = options?.device;
    if (device === undefined || device === null) throw new TypeError("flash: options.device is required");
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
    this.#device = device;
    this.#writable = mode === "r+";
    this.#base = base;
    this.#size = size;
    this.#blockLength = blockLength;
  }

  status(): FlashStatus {
    this.#open();
    return { size: this.#size, blockLength: this.#blockLength, blocks: this.#size / this.#blockLength };
  }

  /**
   * Reads `count` bytes at `offset` into a new ArrayBuffer, or fills `buffer` (an
   * ArrayBuffer or a typed array) and resolves to the bytes read.
   */
  read(count: number, offset: number): Promise<ArrayBuffer>;
  read(buffer: ArrayBuffer | ArrayBufferView, offset: number): Promise<number>;
  async read(what: number | ArrayBuffer | ArrayBufferView, offset: number): Promise<ArrayBuffer | number> {
    this.#open();
    let target: Uint8Array;
    let answer: ArrayBuffer | number;
    if (typeof what === "number") {
      this.#range(offset, what, "read");
      const out = new ArrayBuffer(what);
      target = new Uint8Array(out);
      answer = out;
    } else {
      target = what instanceof ArrayBuffer ? new Uint8Array(what) : new Uint8Array(what.buffer, what.byteOffset, what.byteLength);
      this.#range(offset, target.length, "read");
      answer = target.length;
    }
    await this.#readBytes(this.#base + offset, target);
    return answer;
  }

  /** Writes `data` at `offset` (any alignment). */
  async write(data: ArrayBuffer | ArrayBufferView, offset: number): Promise<void> {
    this.#open();
    if (!this.#writable) throw new BlkReadOnlyError(this.#device.location, 'write: the partition was opened in mode "r"');
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.#range(offset, bytes.length, "write");
    const copy = bytes.slice(); // the caller may reuse its buffer while the write waits
    return this.#serial(() => this.#writeBytes(this.#base + offset, copy));
  }

  /** Erases blocks `from` to `to` - 1 (just `from` without `to`): they read 0xFF after. */
  async eraseBlock(from: number, to: number = from + 1): Promise<void> {
    this.#open();
    if (!this.#writable) throw new BlkReadOnlyError(this.#device.location, 'eraseBlock: the partition was opened in mode "r"');
    const blocks = this.#size / this.#blockLength;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to <= from || to > blocks) {
      throw new RangeError(`flash: eraseBlock(${from}, ${to}) outside blocks 0..${blocks - 1}`);
    }
    const start = this.#base + from * this.#blockLength;
    const length = (to - from) * this.#blockLength;
    const ones = new Uint8Array(Math.min(length, 64 * 1024)).fill(0xff);
    return this.#serial(async () => {
      for (let done = 0; done < length; done += ones.length) {
        const n = Math.min(ones.length, length - done);
        await this.#device.write((start + done) / SECTOR_SIZE, ones.subarray(0, n));
      }
    });
  }

  /** Lets go of the partition; safe to call twice. Later calls throw FlashClosedError. */
  close(): void {
    this.#closed = true;
  }

  #open(): void {
    if (this.#closed) throw new FlashClosedError();
  }

  #range(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0 || offset + length > this.#size) {
      throw new RangeError(`flash: ${what} of ${length} bytes at ${offset} is outside the partition's ${this.#size} bytes`);
    }
  }

  #serial(job: () => Promise<void>): Promise<void> {
    const run = this.#writes.then(job, job);
    this.#writes = run.catch(() => undefined);
    return run;
  }

  /** Reads disk bytes [at, at + target.length) through whole sectors. */
  async #readBytes(at: number, target: Uint8Array): Promise<void> {
    if (target.length === 0) return;
    const first = Math.floor(at / SECTOR_SIZE);
    const last = Math.floor((at + target.length - 1) / SECTOR_SIZE);
    const skip = at - first * SECTOR_SIZE;
    if (skip === 0 && target.length % SECTOR_SIZE === 0) {
      await this.#device.read(first, last - first + 1, target);
      return;
    }
    const sectors = await this.#device.read(first, last - first + 1);
    target.set(sectors.subarray(skip, skip + target.length));
  }

  /** Writes disk bytes at `at`; partial sectors at either end are read and merged first. */
  async #writeBytes(at: number, data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    const first = Math.floor(at / SECTOR_SIZE);
    const last = Math.floor((at + data.length - 1) / SECTOR_SIZE);
    const skip = at - first * SECTOR_SIZE;
    if (skip === 0 && data.length % SECTOR_SIZE === 0) {
      await this.#device.write(first, data);
      return;
    }
    const sectors = new Uint8Array((last - first + 1) * SECTOR_SIZE);
    await this.#device.read(first, 1, sectors.subarray(0, SECTOR_SIZE));
    if (last > first) await this.#device.read(last, 1, sectors.subarray(sectors.length - SECTOR_SIZE));
    sectors.set(data, skip);
    await this.#device.write(first, sectors);
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
