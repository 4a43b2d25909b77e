// One virtio entropy device (VIRTIO 1.2 §5.4) as the application sees it: `read(n)` and
// `fill(buffer)`. Requests are cut into chunks, each chunk one device-writable buffer on
// the single requestq (§5.4.2); many chunks are in flight at once. The device may fill a
// buffer only in part (§5.4.6.1 "MAY use less than the entire buffer length"): the rest is
// asked for again until the caller's buffer is full.

import type { DmaBuffer, Platform } from "../../platform/platform.js";
import type { Completion, Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "../virtio/device.js";
import { drainQueue } from "../virtio/drain.js";
import { DeviceBrokenError, DeviceRemovedError, DeviceStateError } from "../virtio/errors.js";
import type { RemoveReason } from "../virtio/driver.js";
import { RequestWatchdog, type WatchedRequest } from "../virtio/request-watchdog.js";
import { RngDeviceError } from "./errors.js";

export interface RngOptions {
  /** Largest buffer handed to the device in one descriptor. Default 4096. */
  readonly chunkSize?: number;
  /** A request not answered in this time fails with RequestTimeoutError. Default 1000 ms. */
  readonly timeoutMs?: number;
  /** Empty returns (length 0) tolerated per request before it fails. Default 16. */
  readonly maxEmptyReturns?: number;
  /** Re-initializations after request timeouts at most (each takes back the buffers the
   * device kept); once spent, the device is given up on: reset and unbound, every
   * request fails with DeviceBrokenError. Default 3, as blk and net. */
  readonly maxRestarts?: number;
}

export interface RngStats {
  /** fill()/read() calls accepted. */
  readonly requests: number;
  /** Buffers handed to the device. */
  readonly buffersPosted: number;
  /** Bytes of entropy received. */
  readonly bytes: number;
  /** Buffers the device returned less than full (then asked again). */
  readonly shortReturns: number;
  /** Completions found by the watchdog poll rather than by an interrupt. */
  readonly polledCompletions: number;
  readonly timeouts: number;
  /** Re-initializations this driver asked for after timeouts (at most maxRestarts). */
  readonly restarts: number;
}

/** One fill() call. */
export interface Job {
  readonly target: Uint8Array;
  remaining: number;
  emptyReturns: number;
  /** Its deadline: the watchdog fails it with RequestTimeoutError when due. */
  readonly watched: WatchedRequest;
  settled: boolean;
  readonly resolve: (value: Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

/** A part of a job's buffer still to be asked for. */
export interface Piece {
  readonly job: Job;
  readonly offset: number;
  readonly length: number;
}

/** A piece on the ring: the token of its descriptor chain. */
export interface RngChunk extends Piece {
  readonly dma: DmaBuffer;
}
type Chunk = RngChunk;

export class RngDevice {
  readonly #device: VirtioDevice;
  readonly #platform: Platform;
  readonly #chunkSize: number;
  readonly #timeoutMs: number;
  readonly #maxEmptyReturns: number;
  readonly #maxRestarts: number;
  /** Set once the restart budget is spent: the device is not used again. */
  #givenUp: DeviceBrokenError | null = null;
  #queue: Virtqueue<Chunk> | null = null;
  #live = false;
  #closed = false;
  #broken: Error | null = null;
  readonly #jobs = new Set<Job>();
  #pending: Piece[] = [];
  readonly #watchdog: RequestWatchdog;
  #pumpScheduled = false;
  #stats = { requests: 0, buffersPosted: 0, bytes: 0, shortReturns: 0, polledCompletions: 0, timeouts: 0, restarts: 0 };

  constructor(device: VirtioDevice, options: RngOptions = {}) {
    const chunkSize = options.chunkSize ?? 4096;
    const maxRestarts = options.maxRestarts ?? 3;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize ${chunkSize} must be a positive integer`);
    if (!Number.isInteger(maxRestarts) || maxRestarts < 0) throw new RangeError(`maxRestarts ${maxRestarts} must be 0 or more`);
    this.#maxRestarts = maxRestarts;
    this.#device = device;
    this.#platform = device.platform;
    this.#chunkSize = chunkSize;
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.#maxEmptyReturns = options.maxEmptyReturns ?? 16;
    // While requests are outstanding, the watchdog drains the queue now and then (a lost
    // interrupt costs time, not the request) and fails requests past their deadline.
    this.#watchdog = new RequestWatchdog({
      platform: this.#platform,
      location: device.location,
      timeoutMs: this.#timeoutMs,
      poll: () => {
        const before = this.#stats.bytes;
        const queued = this.#jobs.size;
        this.onUsed();
        if (this.#stats.bytes !== before && queued > 0) this.#stats.polledCompletions++;
      },
      onExpired: (count) => this.#expired(count),
    });
  }

  get location(): string {
    return this.#device.location;
  }

  /** The error that broke the queue (until the device is re-initialized), or the one
   * it was given up with. */
  get broken(): Error | null {
    return this.#givenUp ?? this.#broken;
  }

  /** Requests not yet fully answered. */
  get pendingRequests(): number {
    return this.#jobs.size;
  }

  /** Parts of requests waiting for a free descriptor (never more than the requests
   * pending need: a failed request's parts are dropped). */
  get queuedBuffers(): number {
    return this.#pending.length;
  }

  stats(): RngStats {
    return { ...this.#stats };
  }

  /** `length` random bytes from the device. */
  async read(length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`length ${length} must be a non-negative integer`);
    return this.fill(new Uint8Array(length));
  }

  /** Fills `buffer` with random bytes from the device; resolves to the same buffer. */
  fill(buffer: Uint8Array): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const refused = this.#refusal();
      if (refused !== null) return reject(refused);
      this.#stats.requests++;
      if (buffer.length === 0) return resolve(buffer);
      const job: Job = {
        target: buffer,
        remaining: buffer.length,
        emptyReturns: 0,
        watched: this.#watchdog.watch((error) => this.#settle(job, error)),
        settled: false,
        resolve,
        reject,
      };
      this.#jobs.add(job);
      for (let offset = 0; offset < buffer.length; offset += this.#chunkSize) {
        this.#pending.push({ job, offset, length: Math.min(this.#chunkSize, buffer.length - offset) });
      }
      this.#schedulePump();
    });
  }

  /** Called by the driver during probe: the new queue (after a bind or a re-init). */
  attach(queue: Virtqueue<Chunk>): void {
    this.#queue = queue;
    this.#broken = null;
    this.#live = false;
  }

  /** Called by the driver once the device is at DRIVER_OK. */
  start(): void {
    this.#live = true;
    this.#pump();
  }

  /** Called by the driver from remove(): the device is already reset, so every buffer in
   * flight comes back and is freed; every request fails. */
  detach(reason: RemoveReason): void {
    const queue = this.#queue;
    this.#queue = null;
    this.#live = false;
    if (reason === "unbind") this.#closed = true;
    if (queue !== null) {
      for (const chunk of queue.detachAll()) this.#platform.dma.free(chunk.dma);
    }
    this.#failAll(new DeviceRemovedError(this.location, reason === "unbind" ? "device unbound" : "device reset"));
  }

  /** The core's used-buffer callback (from the event loop). */
  onUsed(): void {
    const queue = this.#queue;
    if (queue === null || this.#broken !== null) return;
    try {
      drainQueue(queue, (completion) => this.#complete(completion));
    } catch (error) {
      this.#break(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#pump();
  }

  /** Why a new request cannot be served now, or null. */
  #refusal(): Error | null {
    if (this.#givenUp !== null) return this.#givenUp;
    if (this.#closed) return new DeviceRemovedError(this.location, "device unbound");
    if (this.#broken !== null) return this.#broken;
    if (this.#queue === null || !this.#device.live) return new DeviceStateError(this.location, this.#device.state, "read entropy");
    return null;
  }

  /** Requests made in the same turn go out together: one pump, one kick (§2.7.13). */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    void Promise.resolve().then(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** Posts pending pieces while descriptors are free, then kicks once (batching). */
  #pump(): void {
    const queue = this.#queue;
    if (queue === null || !this.#live || this.#broken !== null || !this.#device.live) return;
    let added = 0;
    while (this.#pending.length > 0 && queue.freeCount > 0) {
      const piece = this.#pending.shift() as Piece;
      if (piece.job.settled) continue;
      let dma: DmaBuffer;
      try {
        dma = this.#platform.dma.alloc(piece.length);
      } catch (error) {
        this.#settle(piece.job, error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      try {
        queue.add([], [{ phys: dma.phys, len: piece.length }], { ...piece, dma });
      } catch (error) {
        this.#platform.dma.free(dma);
        this.#break(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      added++;
      this.#stats.buffersPosted++;
    }
    if (added > 0) queue.kick();
  }

  /** One buffer came back with `len` bytes written (already checked ≤ its size by the ring). */
  #complete({ token: chunk, len }: Completion<Chunk>): void {
    const bytes = Math.min(len, chunk.length);
    const job = chunk.job;
    if (!job.settled) job.target.set(chunk.dma.bytes.subarray(0, bytes), chunk.offset);
    this.#platform.dma.free(chunk.dma);
    this.#stats.bytes += bytes;
    if (job.settled) return;
    job.remaining -= bytes;
    if (bytes < chunk.length) {
      this.#stats.shortReturns++;
      if (bytes === 0 && ++job.emptyReturns > this.#maxEmptyReturns) {
        this.#settle(job, new RngDeviceError(this.location, job.emptyReturns));
        return;
      }
      this.#pending.push({ job, offset: chunk.offset + bytes, length: chunk.length - bytes });
    }
    if (job.remaining === 0) this.#settle(job, null);
  }

  #settle(job: Job, error: Error | null): void {
    if (job.settled) return;
    job.settled = true;
    this.#jobs.delete(job);
    job.watched.done();
    if (error === null) job.resolve(job.target);
    else {
      // Its parts not yet on the ring go now (those on the ring stay the device's until
      // it returns them or is reset).
      if (this.#pending.length > 0) this.#pending = this.#pending.filter((piece) => piece.job !== job);
      job.reject(error);
    }
  }

  /** Requests passed their deadline: the device keeps buffers it does not answer, and
   * only a reset takes them back (§2.4), so re-initialize it, a few times at most. */
  #expired(count: number): void {
    this.#stats.timeouts += count;
    if (this.#givenUp !== null || this.#closed) return;
    if (this.#stats.restarts >= this.#maxRestarts) {
      // Unbinding resets the device (its buffers come back and are freed) and leaves it
      // unbound; every later request fails at once with this error.
      this.#givenUp = new DeviceBrokenError(this.location, `requests timed out after ${this.#stats.restarts} re-initialization(s): given up`);
      this.#device.reportError(this.#givenUp);
      this.#failAll(this.#givenUp);
      void this.#device.unbind();
      return;
    }
    this.#stats.restarts++;
    void this.#device.restart();
  }

  /** The device broke a ring rule: fail every request; the queue stays broken (its
   * buffers stay with the device) until the core resets and re-initializes it. */
  #break(error: Error): void {
    this.#broken = error;
    this.#device.reportError(error);
    this.#failAll(error);
  }

  #failAll(error: Error): void {
    this.#pending = [];
    for (const job of [...this.#jobs]) this.#settle(job, error);
  }
}
