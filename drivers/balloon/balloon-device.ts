// One virtio memory balloon (VIRTIO 1.2 §5.5) as the firmware sees it. The host sets a
// target (`num_pages`); the balloon follows it by taking free pages from the platform's page
// pool and naming them to the device on the inflateq, or naming pages back on the deflateq
// and returning them to the pool, then writes `actual` (§5.5.6). One inflate or deflate
// request is out at a time (§5.5.6.1: no deflation of pages before their inflation was
// acknowledged). Pages in the balloon are never touched while there.
//
// Also: the statsq answered each time the device asks (§5.5.6.3), DEFLATE_ON_OOM (pages
// handed back when an allocation finds the pool empty), PAGE_POISON (pages filled with
// poison_val before they go to the device and before they are reused, §5.5.6.5) and free
// page reporting (§5.5.6.7).

import type { DmaBuffer, Platform, TimerId } from "../../platform/platform.js";
import type { PagePool } from "../../platform/page-pool.js";
import type { Completion, Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "../virtio/device.js";
import { drainQueue } from "../virtio/drain.js";
import type { RemoveReason } from "../virtio/driver.js";
import { BalloonConfig, BalloonFeature, PFNS_PER_REQUEST, STAT_ENTRY_BYTES, SUPPLIED_STATS } from "./balloon-spec.js";
import { fillStats, measureMemory, type MemoryFigures } from "./balloon-stats.js";
import { BalloonDeviceError, NoPagePoolError } from "./errors.js";
import { FrameStack } from "./frame-stack.js";
import { FreePageReporter } from "./free-page-reporter.js";
import type { BalloonOptions, BalloonStats } from "./balloon-options.js";

export type { BalloonOptions, BalloonStats } from "./balloon-options.js";

/** What a request on the ring is; the token of its chain. */
const enum Kind {
  Inflate = 1,
  Deflate = 2,
  Stats = 3,
  Report = 4,
}

/** The pool's name for pages the balloon holds (in it or on their way). */
const HOLDER = "balloon";

export class BalloonDevice {
  readonly #device: VirtioDevice;
  readonly #platform: Platform;
  readonly #pool: PagePool;
  readonly #options: Required<BalloonOptions>;
  #inflateq: Virtqueue<Kind> | null = null;
  #deflateq: Virtqueue<Kind> | null = null;
  #statsq: Virtqueue<Kind> | null = null;
  #reportq: Virtqueue<Kind> | null = null;
  /** Page-frame arrays of the inflate and deflate requests, and the stats buffer. */
  #inflateArray: DmaBuffer | null = null;
  #deflateArray: DmaBuffer | null = null;
  #statsBuffer: DmaBuffer | null = null;
  readonly #inflateFrames = new Uint32Array(PFNS_PER_REQUEST);
  readonly #deflateFrames = new Uint32Array(PFNS_PER_REQUEST);
  #inflateCount = 0;
  #deflateCount = 0;
  /** The deflate request out names pages an OOM already gave back to the pool. */
  #deflateIsOom = false;
  /** Frames acknowledged in the balloon. */
  readonly #frames = new FrameStack(1024);
  /** Frames handed back by DEFLATE_ON_OOM that the device has not been told of yet. */
  readonly #oomFrames = new FrameStack(256);
  readonly #reporter: FreePageReporter<Kind>;
  #target = 0;
  #actual = 0;
  #live = false;
  #closed = false;
  #broken: Error | null = null;
  #retryTimer: TimerId | null = null;
  #unhookReclaimer: (() => void) | null = null;
  #mustTellHost = false;
  #deflateOnOom = false;
  #poisoning = false;
  #stats = {
    shortfallPages: 0, inflateRequests: 0, deflateRequests: 0, oomPages: 0,
    statsRequests: 0, configChanges: 0,
  };

  constructor(device: VirtioDevice, options: BalloonOptions = {}) {
    const pool = device.platform.pages;
    if (pool === undefined) throw new NoPagePoolError(device.location);
    this.#device = device;
    this.#platform = device.platform;
    this.#pool = pool;
    this.#options = {
      poison: (options.poison ?? 0) >>> 0,
      retryMs: options.retryMs ?? 1000,
      reportMinPages: options.reportMinPages ?? 256,
      reportIntervalMs: options.reportIntervalMs ?? 10_000,
      reportRuns: options.reportRuns ?? 16,
    };
    const o = this.#options;
    this.#reporter = new FreePageReporter(this.#platform, pool, { minPages: o.reportMinPages, intervalMs: o.reportIntervalMs, runs: o.reportRuns }, () => {
      this.#report();
      this.#scheduleReport();
    });
  }

  get location(): string {
    return this.#device.location;
  }

  /** The error that broke the device, until it is re-initialized. */
  get broken(): Error | null {
    return this.#broken;
  }

  /** num_pages as last read. */
  get targetPages(): number {
    return this.#target;
  }

  /** Pages in the balloon (what `actual` says). */
  get actualPages(): number {
    return this.#actual;
  }

  /** True when the balloon holds what the device asks for and nothing is out. */
  get settled(): boolean {
    return this.#inflateCount === 0 && this.#deflateCount === 0 && this.#oomFrames.count === 0 &&
      (this.#actual === this.#target || (this.#actual < this.#target && this.#pool.freePages === 0));
  }

  /** The feature bits negotiated that shape the balloon's behaviour. */
  get negotiated(): { mustTellHost: boolean; deflateOnOom: boolean; poison: boolean; stats: boolean; reporting: boolean } {
    return {
      mustTellHost: this.#mustTellHost,
      deflateOnOom: this.#deflateOnOom,
      poison: this.#poisoning,
      stats: this.#statsq !== null,
      reporting: this.#reporter.enabled,
    };
  }

  stats(): BalloonStats {
    return {
      ...this.#stats,
      reports: this.#reporter.reports,
      reportedPages: this.#reporter.reportedPages,
      targetPages: this.#target,
      actualPages: this.#actual,
      inflightPages: this.#inflateCount + this.#deflateCount,
    };
  }

  /** What the statistics would report now (MEMFREE, MEMTOT, AVAIL in bytes). */
  memoryFigures(): MemoryFigures {
    return measureMemory(this.#platform, this.#pool, this.#deflateOnOom ? this.#frames.count : 0);
  }

  /** Called by the driver during probe, between FEATURES_OK and DRIVER_OK. */
  attach(queues: { inflate: Virtqueue<Kind>; deflate: Virtqueue<Kind>; stats: Virtqueue<Kind> | null; report: Virtqueue<Kind> | null }): void {
    const d = this.#device;
    this.#inflateq = queues.inflate;
    this.#deflateq = queues.deflate;
    this.#statsq = queues.stats;
    this.#reportq = queues.report;
    this.#broken = null;
    this.#live = false;
    this.#mustTellHost = d.hasFeature(BalloonFeature.MUST_TELL_HOST);
    this.#deflateOnOom = d.hasFeature(BalloonFeature.DEFLATE_ON_OOM);
    this.#poisoning = d.hasFeature(BalloonFeature.PAGE_POISON);
    // §5.5.6.7.1: with PAGE_POISON, reported pages hold poison_val.
    this.#reporter.attach(queues.report, Kind.Report, this.#poisoning ? this.#options.poison : null);
    const dma = this.#platform.dma;
    this.#inflateArray = dma.alloc(PFNS_PER_REQUEST * 4, 16);
    this.#deflateArray = dma.alloc(PFNS_PER_REQUEST * 4, 16);
    // §5.5.5 step 4 / §5.5.6.5.1: poison_val populated before DRIVER_OK.
    if (this.#poisoning) d.writeConfig32(BalloonConfig.POISON_VAL, this.#options.poison);
    if (this.#statsq !== null) {
      // §5.5.5 step 2: one buffer in the statsq at initialization, notified after DRIVER_OK.
      this.#statsBuffer = dma.alloc(SUPPLIED_STATS.length * STAT_ENTRY_BYTES, 16);
      fillStats(this.#statsBuffer.view, this.memoryFigures());
      this.#statsq.add([{ phys: this.#statsBuffer.phys, len: this.#statsBuffer.size }], [], Kind.Stats);
    }
    if (this.#unhookReclaimer === null) this.#unhookReclaimer = this.#pool.addReclaimer((wanted) => this.#reclaim(wanted));
    this.#target = this.#readTarget();
  }

  /** Called by the driver once DRIVER_OK is set. */
  start(): void {
    if (this.#closed) return;
    this.#live = true;
    this.#writeActual(); // the balloon starts empty
    this.#statsq?.kick(); // §5.5.5 step 7
    this.#adjust();
    this.#scheduleReport();
  }

  /** The device's configuration changed (§5.5.6: num_pages is examined). */
  configChanged(): void {
    this.#stats.configChanges++;
    if (!this.#live || this.#broken !== null) return;
    this.#target = this.#readTarget();
    this.#adjust();
  }

  /** Used-buffer callback of every queue (from the event loop). */
  onUsed(): void {
    if (this.#broken !== null) return;
    try {
      this.#drain(this.#inflateq);
      this.#drain(this.#deflateq);
      this.#drain(this.#statsq);
      this.#drain(this.#reportq);
    } catch (error) {
      this.#break(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#adjust();
  }

  #drain(queue: Virtqueue<Kind> | null): void {
    if (queue !== null) drainQueue(queue, this.#onCompletion);
  }

  /** Bound once: no closure per interrupt. */
  readonly #onCompletion = (c: Completion<Kind>): void => this.#complete(c);

  /**
   * Called by the driver from remove(): the core has reset the device, so it holds no page
   * and no buffer any more. Every page goes back to the pool (poisoned when negotiated).
   */
  detach(reason: RemoveReason): void {
    this.#live = false;
    this.#clearTimers();
    for (const q of [this.#inflateq, this.#deflateq, this.#statsq, this.#reportq]) q?.detachAll();
    this.#inflateq = this.#deflateq = this.#statsq = this.#reportq = null;
    if (this.#inflateCount > 0) this.#release(HOLDER, this.#inflateFrames, this.#inflateCount);
    if (this.#deflateCount > 0 && !this.#deflateIsOom) this.#release(HOLDER, this.#deflateFrames, this.#deflateCount);
    this.#inflateCount = this.#deflateCount = 0;
    this.#deflateIsOom = false;
    if (this.#frames.count > 0) this.#release(HOLDER, this.#frames.frames, this.#frames.count);
    this.#frames.clear();
    this.#oomFrames.clear();
    this.#reporter.detach();
    this.#actual = 0;
    const dma = this.#platform.dma;
    for (const b of [this.#inflateArray, this.#deflateArray, this.#statsBuffer]) if (b !== null) dma.free(b);
    this.#inflateArray = this.#deflateArray = this.#statsBuffer = null;
    if (reason === "unbind") {
      this.#closed = true;
      this.#unhookReclaimer?.();
      this.#unhookReclaimer = null;
    }
  }

  /** Moves the balloon one request towards the target (§5.5.6 steps 1-3). */
  #adjust(): void {
    if (!this.#live || this.#broken !== null || !this.#device.live) return;
    if (this.#inflateCount > 0 || this.#deflateCount > 0) return; // one request out at a time
    if (this.#oomFrames.count > 0) return this.#tellOom();
    const want = this.#target - this.#actual;
    if (want > 0) this.#inflate(Math.min(want, PFNS_PER_REQUEST));
    else if (want < 0) this.#deflate(Math.min(-want, PFNS_PER_REQUEST, this.#frames.count));
    this.#scheduleReport();
  }

  /** §5.5.6 step 2: names `count` free pages to the device. */
  #inflate(count: number): void {
    const taken = this.#pool.take(HOLDER, count, this.#inflateFrames);
    if (taken < count) this.#stats.shortfallPages = this.#target - this.#actual - taken;
    else this.#stats.shortfallPages = 0;
    if (taken === 0) return this.#retryLater();
    if (this.#poisoning) this.#pool.fillFrames(this.#inflateFrames, taken, this.#options.poison);
    this.#inflateCount = taken;
    this.#post(this.#inflateq!, this.#inflateArray!, this.#inflateFrames, taken, Kind.Inflate);
    this.#stats.inflateRequests++;
  }

  /** §5.5.6 step 3: names `count` pages of the balloon back to the device. */
  #deflate(count: number): void {
    if (count <= 0) return;
    this.#frames.popInto(this.#deflateFrames, count);
    this.#deflateCount = count;
    this.#deflateIsOom = false;
    this.#post(this.#deflateq!, this.#deflateArray!, this.#deflateFrames, count, Kind.Deflate);
    this.#stats.deflateRequests++;
  }

  /** Tells the device of pages DEFLATE_ON_OOM already took back (§5.5.6.1: the deflateq). */
  #tellOom(): void {
    const count = Math.min(this.#oomFrames.count, PFNS_PER_REQUEST);
    this.#oomFrames.popInto(this.#deflateFrames, count);
    this.#deflateCount = count;
    this.#deflateIsOom = true;
    this.#post(this.#deflateq!, this.#deflateArray!, this.#deflateFrames, count, Kind.Deflate);
    this.#stats.deflateRequests++;
  }

  /** Writes a page-frame array (32-bit LE, §5.5.6) and makes it available. */
  #post(queue: Virtqueue<Kind>, array: DmaBuffer, frames: Uint32Array, count: number, kind: Kind): void {
    // The pool's frames are physical address >> 12: the balloon's page-frame numbers, 32-bit
    // little-endian (this CPU is little-endian, and the DMA buffer is 16-aligned).
    new Uint32Array(array.bytes.buffer, array.bytes.byteOffset, count).set(frames.subarray(0, count));
    try {
      queue.add([{ phys: array.phys, len: count * 4 }], [], kind);
      queue.kick();
    } catch (error) {
      this.#break(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** One used buffer (its length is not used: §5.5.6.2 legacy, and nothing is written). */
  #complete({ token }: Completion<Kind>): void {
    switch (token) {
      case Kind.Inflate: {
        const n = this.#inflateCount;
        this.#frames.pushAll(this.#inflateFrames, n);
        this.#inflateCount = 0;
        this.#actual += n;
        this.#writeActual(); // §5.5.6 step 5
        return;
      }
      case Kind.Deflate: {
        const n = this.#deflateCount;
        // Pages taken back by an OOM are already in use; the others return to the pool now.
        if (!this.#deflateIsOom) this.#release(HOLDER, this.#deflateFrames, n);
        this.#deflateCount = 0;
        this.#deflateIsOom = false;
        this.#actual -= n;
        this.#writeActual();
        return;
      }
      case Kind.Stats: {
        // §5.5.6.3: the device wants fresh statistics: refill the buffer and give it back.
        this.#stats.statsRequests++;
        const buffer = this.#statsBuffer;
        if (buffer === null || this.#statsq === null || !this.#device.live) return;
        fillStats(buffer.view, this.memoryFigures());
        this.#statsq.add([{ phys: buffer.phys, len: buffer.size }], [], Kind.Stats);
        this.#statsq.kick();
        return;
      }
      case Kind.Report: {
        // §5.5.6.7: acknowledged; the reported pages may be used again.
        this.#reporter.release();
        return;
      }
      default:
        throw new BalloonDeviceError(this.location, `used buffer with unknown token ${String(token)}`);
    }
  }

  /** DEFLATE_ON_OOM (§5.5.6.1): an allocation found the pool empty; give pages back now. */
  #reclaim(wanted: number): number {
    // Without DEFLATE_ON_OOM the balloon's pages are the host's; with MUST_TELL_HOST they may
    // not be used before the device acknowledged their deflation (not possible synchronously).
    if (!this.#live || !this.#deflateOnOom || this.#mustTellHost || this.#frames.count === 0) return 0;
    const n = Math.min(wanted, this.#frames.count);
    for (let i = 0; i < n; i++) this.#oomFrames.push(this.#frames.pop());
    this.#release(HOLDER, this.#oomFrames.frames, n, this.#oomFrames.count - n);
    this.#stats.oomPages += n;
    // The device is told on the deflateq as soon as no request is out.
    void Promise.resolve().then(() => this.#adjust());
    return n;
  }

  /** Returns frames to the pool, filled with poison_val first when negotiated (§5.5.6.5.1). */
  #release(holder: string, frames: Uint32Array, count: number, at = 0): void {
    if (this.#poisoning) this.#pool.fillFrames(frames, count, this.#options.poison, at);
    this.#pool.give(holder, frames, count, at);
  }

  /** Free page reporting (§5.5.6.7): only while the balloon is idle and settled. */
  #report(): void {
    if (!this.#live || !this.#device.live || this.#broken !== null) return;
    if (this.#inflateCount > 0 || this.#deflateCount > 0 || !this.settled) return;
    try {
      this.#reporter.report();
    } catch (error) {
      this.#break(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #scheduleReport(): void {
    if (this.#live && this.#broken === null) this.#reporter.schedule();
  }

  #retryLater(): void {
    if (this.#retryTimer !== null) return;
    this.#retryTimer = this.#platform.timers.set(() => {
      this.#retryTimer = null;
      this.#adjust();
    }, this.#options.retryMs);
  }

  #clearTimers(): void {
    if (this.#retryTimer !== null) this.#platform.timers.clear(this.#retryTimer);
    this.#retryTimer = null;
    this.#reporter.stop();
  }

  #readTarget(): number {
    return this.#device.readConfig((c) => c.u32(BalloonConfig.NUM_PAGES));
  }

  /** §5.5.6: `actual` after every change; one 32-bit write (legacy: a single access, §5.5.6.2). */
  #writeActual(): void {
    if (this.#device.live) this.#device.writeConfig32(BalloonConfig.ACTUAL, this.#actual);
  }

  /** The device broke a ring rule: stop; its pages stay where they are until the reset. */
  #break(error: Error): void {
    this.#broken = error;
    this.#clearTimers();
    this.#device.reportError(error);
  }
}
