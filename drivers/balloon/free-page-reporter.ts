// Free page reporting (VIRTIO 1.2 §5.5.6.7): runs of free pages in the page pool are named to
// the device on the reporting queue, at most once per interval; while reported they are held
// by the pool under their own holder, and return to it when the device has used the buffer.

import type { Platform, TimerId } from "../../platform/platform.js";
import type { PagePool } from "../../platform/page-pool.js";
import type { Virtqueue } from "../../ring/virtqueue.js";

const HOLDER = "balloon-report";

export interface ReporterOptions {
  /** Smallest run of free pages reported. */
  readonly minPages: number;
  /** At most one report per this many ms. */
  readonly intervalMs: number;
  /** Runs per report (one descriptor each). */
  readonly runs: number;
}

export class FreePageReporter<T> {
  readonly #platform: Platform;
  readonly #pool: PagePool;
  readonly #options: ReporterOptions;
  /** [first frame, pages] of each run in the report out. */
  readonly #runs: Uint32Array;
  #count = 0;
  #last = -Infinity;
  #timer: TimerId | null = null;
  #queue: Virtqueue<T> | null = null;
  #token: T | null = null;
  /** poison_val to fill reported pages with (§5.5.6.7.1), or null without PAGE_POISON. */
  #poison: number | null = null;
  /** Called when the interval has passed: the balloon decides whether to report, and re-arms. */
  readonly #due: () => void;
  reports = 0;
  reportedPages = 0;

  constructor(platform: Platform, pool: PagePool, options: ReporterOptions, due: () => void) {
    this.#platform = platform;
    this.#pool = pool;
    this.#options = options;
    this.#runs = new Uint32Array(options.runs * 2);
    this.#due = due;
  }

  /** The reporting queue negotiated (null: no VIRTIO_BALLOON_F_FREE_PAGE_REPORTING). */
  attach(queue: Virtqueue<T> | null, token: T, poison: number | null): void {
    this.#queue = queue;
    this.#token = token;
    this.#poison = poison;
  }

  get enabled(): boolean {
    return this.#queue !== null;
  }

  /** A report is out (its pages are the device's until it is used). */
  get busy(): boolean {
    return this.#count > 0;
  }

  /** Posts one report of the free runs there are now; a ring error is thrown to the caller. */
  report(): void {
    const q = this.#queue;
    if (q === null || this.#count > 0) return;
    const runs = this.#pool.freeRuns(this.#options.minPages, this.#options.runs, this.#runs);
    if (runs === 0) return;
    const writable = [];
    for (let i = 0; i < runs; i++) {
      const first = this.#runs[i * 2]!;
      const pages = this.#runs[i * 2 + 1]!;
      this.#pool.takeRun(HOLDER, first, pages);
      if (this.#poison !== null) this.#pool.fillRun(first, pages, this.#poison);
      writable.push({ phys: first * 4096, len: pages * 4096 });
      this.reportedPages += pages;
    }
    this.#count = runs;
    this.#last = this.#platform.clock.now();
    this.reports++;
    q.add([], writable, this.#token as T);
    q.kick();
  }

  /** The device used the report (or was reset): its pages go back to the pool. */
  release(): void {
    for (let i = 0; i < this.#count; i++) {
      const first = this.#runs[i * 2]!;
      const pages = this.#runs[i * 2 + 1]!;
      const frames = new Uint32Array(pages);
      for (let k = 0; k < pages; k++) frames[k] = first + k;
      this.#pool.give(HOLDER, frames, pages);
    }
    this.#count = 0;
  }

  /** Arms the interval timer (once); when it fires, `due` runs (and may arm it again). */
  schedule(): void {
    if (this.#queue === null || this.#timer !== null) return;
    const interval = this.#options.intervalMs;
    const wait = Math.max(0, this.#last + interval - this.#platform.clock.now());
    this.#timer = this.#platform.timers.set(() => {
      this.#timer = null;
      this.#due();
    }, Math.min(wait, interval));
  }

  stop(): void {
    if (this.#timer !== null) this.#platform.timers.clear(this.#timer);
    this.#timer = null;
  }

  /** Reset or unbind: the timer stops, reported pages return, the queue is gone. */
  detach(): void {
    this.stop();
    this.release();
    this.#queue = null;
  }
}
