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
import { fillStats, type MemoryFigures } from "./balloon-stats.js";
import { BalloonDeviceError, NoPagePoolError } from "./errors.js";

export interface BalloonOptions {
  /** poison_val written when PAGE_POISON is negotiated (default 0: free pages read as zero). */
  readonly poison?: number;
  /** When the target cannot be reached (no free page), try again after this long. Default 1000 ms. */
  readonly retryMs?: number;
  /** Free page reporting: smallest run of free pages reported (default 256 = 1 MiB). */
  readonly reportMinPages?: number;
  /** Free page reporting: at most one report per this many ms (default 10 000). */
  readonly reportIntervalMs?: number;
  /** Runs per report (one descriptor each; default 16). */
  readonly reportRuns?: number;
}

/** What a request on the ring is; the token of its chain. */
const enum Kind {
  Inflate = 1,
  Deflate = 2,
  Stats = 3,
  Report = 4,
}

/** The pool's name for pages the balloon holds (in it, on their way, or reported). */
const HOLDER = "balloon";
const REPORT_HOLDER = "balloon-report";

export interface BalloonStats {
  /** num_pages: what the device asks for (4 KiB pages). */
  readonly targetPages: number;
  /** Pages the balloon holds, as last written to `actual`. */
  readonly actualPages: number;
  /** Pages named in the inflate or deflate request now out. */
  readonly inflightPages: number;
  /** Target pages the pool could not give (no free page). */
  readonly shortfallPages: number;
  readonly inflateRequests: number;
  readonly deflateRequests: number;
  /** Pages handed back on an allocation that found the pool empty (DEFLATE_ON_OOM). */
  readonly oomPages: number;
  /** Times the device asked for statistics (used the statsq buffer). */
  readonly statsRequests: number;
  readonly reports: number;
  readonly reportedPages: number;
  readonly configChanges: number;
}

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
  /** Frames acknowledged in the balloon, a stack. */
  #frames = new Uint32Array(0);
  #frameCount = 0;
  /** Frames handed back by DEFLATE_ON_OOM that the device has not been told of yet. */
  #oomFrames = new Uint32Array(0);
  #oomCount = 0;
  /** Free page reporting: [first frame, pages] of each run in the report out. */
  readonly #reportRuns: Uint32Array;
  #reportCount = 0;
  #lastReport = -Infinity;
  #target = 0;
  #actual = 0;
  #live = false;
  #closed = false;
  #broken: Error | null = null;
  #retryTimer: TimerId | null = null;
  #reportTimer: TimerId | null = null;
  #unhookReclaimer: (() => void) | null = null;
  #mustTellHost = false;
  #deflateOnOom = false;
  #poisoning = false;
  #stats = {
    shortfallPages: 0, inflateRequests: 0, deflateRequests: 0, oomPages: 0,
    statsRequests: 0, reports: 0, reportedPages: 0, configChanges: 0,
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
    this.#reportRuns = new Uint32Array(this.#options.reportRuns * 2);
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
    return this.#inflateCount === 0 && this.#deflateCount === 0 && this.#oomCount === 0 &&
      (this.#actual === this.#target || (this.#actual < this.#target && this.#pool.freePages === 0));
  }

  /** The feature bits negotiated that shape the balloon's behaviour. */
  get negotiated(): { mustTellHost: boolean; deflateOnOom: boolean; poison: boolean; stats: boolean; reporting: boolean } {
    return {
      mustTellHost: this.#mustTellHost,
      deflateOnOom: this.#deflateOnOom,
      poison: this.#poisoning,
      stats: this.#statsq !== null,
      reporting: this.#reportq !== null,
    };
  }

  stats(): BalloonStats {
    return {
      ...this.#stats,
      targetPages: this.#target,
      actualPages: this.#actual,
      inflightPages: this.#inflateCount + this.#deflateCount,
    };
  }

  /** What the statistics would report now (MEMFREE, MEMTOT, AVAIL in bytes). */
  memoryFigures(): MemoryFigures {
    const pool = this.#pool.stats();
    const dma = this.#platform.dma.stats();
    const engine = this.#platform.engineStats();
    const heapFree = typeof engine["cHeapLimit"] === "number" && typeof engine["cHeapUsed"] === "number"
      ? Math.max(0, engine["cHeapLimit"] - engine["cHeapUsed"])
      : 0;
    const poolFree = pool.freePages * pool.pageSize;
    const free = poolFree + (dma.total - dma.used) + heapFree;
    const lendable = this.#deflateOnOom ? this.#frameCount * pool.pageSize : 0;
    return { total: this.#platform.board.ram.size, free, available: free + lendable, heapInUse: engine["cHeapUsed"] ?? null };
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
    if (this.#frameCount > 0) this.#release(HOLDER, this.#frames, this.#frameCount);
    this.#frameCount = 0;
    this.#oomCount = 0;
    this.#releaseReport();
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
    if (this.#oomCount > 0) return this.#tellOom();
    const want = this.#target - this.#actual;
    if (want > 0) this.#inflate(Math.min(want, PFNS_PER_REQUEST));
    else if (want < 0) this.#deflate(Math.min(-want, PFNS_PER_REQUEST, this.#frameCount));
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
    for (let i = 0; i < count; i++) this.#deflateFrames[i] = this.#frames[--this.#frameCount]!;
    this.#deflateCount = count;
    this.#deflateIsOom = false;
    this.#post(this.#deflateq!, this.#deflateArray!, this.#deflateFrames, count, Kind.Deflate);
    this.#stats.deflateRequests++;
  }

  /** Tells the device of pages DEFLATE_ON_OOM already took back (§5.5.6.1: the deflateq). */
  #tellOom(): void {
    const count = Math.min(this.#oomCount, PFNS_PER_REQUEST);
    for (let i = 0; i < count; i++) this.#deflateFrames[i] = this.#oomFrames[--this.#oomCount]!;
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
        this.#ensureFrames(this.#frameCount + n);
        this.#frames.set(this.#inflateFrames.subarray(0, n), this.#frameCount);
        this.#frameCount += n;
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
        this.#releaseReport();
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
    if (!this.#live || !this.#deflateOnOom || this.#mustTellHost || this.#frameCount === 0) return 0;
    const n = Math.min(wanted, this.#frameCount);
    this.#ensureOom(this.#oomCount + n);
    for (let i = 0; i < n; i++) this.#oomFrames[this.#oomCount++] = this.#frames[--this.#frameCount]!;
    this.#release(HOLDER, this.#oomFrames, n, this.#oomCount - n);
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

  /** Free page reporting (§5.5.6.7): names runs of free pages, at most once per interval. */
  #report(): void {
    const q = this.#reportq;
    if (q === null || !this.#live || this.#reportCount > 0 || !this.#device.live) return;
    if (this.#inflateCount > 0 || this.#deflateCount > 0 || !this.settled) return;
    const runs = this.#pool.freeRuns(this.#options.reportMinPages, this.#options.reportRuns, this.#reportRuns);
    if (runs === 0) return;
    const writable = [];
    for (let i = 0; i < runs; i++) {
      const first = this.#reportRuns[i * 2]!;
      const pages = this.#reportRuns[i * 2 + 1]!;
      this.#pool.takeRun(REPORT_HOLDER, first, pages);
      // §5.5.6.7.1: with PAGE_POISON, reported pages hold poison_val.
      if (this.#poisoning) this.#pool.fillRun(first, pages, this.#options.poison);
      writable.push({ phys: first * 4096, len: pages * 4096 });
      this.#stats.reportedPages += pages;
    }
    this.#reportCount = runs;
    this.#lastReport = this.#platform.clock.now();
    this.#stats.reports++;
    try {
      q.add([], writable, Kind.Report);
      q.kick();
    } catch (error) {
      this.#break(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #releaseReport(): void {
    for (let i = 0; i < this.#reportCount; i++) {
      const first = this.#reportRuns[i * 2]!;
      const pages = this.#reportRuns[i * 2 + 1]!;
      const frames = new Uint32Array(pages);
      for (let k = 0; k < pages; k++) frames[k] = first + k;
      this.#pool.give(REPORT_HOLDER, frames, pages);
    }
    this.#reportCount = 0;
  }

  #scheduleReport(): void {
    if (this.#reportq === null || this.#reportTimer !== null || !this.#live) return;
    const wait = Math.max(0, this.#lastReport + this.#options.reportIntervalMs - this.#platform.clock.now());
    this.#reportTimer = this.#platform.timers.set(() => {
      this.#reportTimer = null;
      this.#report();
      this.#scheduleReport();
    }, Math.min(wait, this.#options.reportIntervalMs));
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
    if (this.#reportTimer !== null) this.#platform.timers.clear(this.#reportTimer);
    this.#retryTimer = this.#reportTimer = null;
  }

  #readTarget(): number {
    return this.#device.readConfig((c) => c.u32(BalloonConfig.NUM_PAGES));
  }

  /** §5.5.6: `actual` after every change; one 32-bit write (legacy: a single access, §5.5.6.2). */
  #writeActual(): void {
    if (this.#device.live) this.#device.writeConfig32(BalloonConfig.ACTUAL, this.#actual);
  }

  #ensureFrames(n: number): void {
    if (n <= this.#frames.length) return;
    const grown = new Uint32Array(Math.max(n, this.#frames.length * 2, 1024));
    grown.set(this.#frames.subarray(0, this.#frameCount));
    this.#frames = grown;
  }

  #ensureOom(n: number): void {
    if (n <= this.#oomFrames.length) return;
    const grown = new Uint32Array(Math.max(n, this.#oomFrames.length * 2, 256));
    grown.set(this.#oomFrames.subarray(0, this.#oomCount));
    this.#oomFrames = grown;
  }

  /** The device broke a ring rule: stop; its pages stay where they are until the reset. */
  #break(error: Error): void {
    this.#broken = error;
    this.#clearTimers();
    this.#device.reportError(error);
  }
}
