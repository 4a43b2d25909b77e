// The request watchdog of a device driver. A driver cannot trust the device to answer,
// nor the platform to deliver every used-buffer notification (§2.7.10 lets the device
// skip some; a lost interrupt is a platform fault). While requests are out, a repeating
// timer polls the driver's queue, so a lost notification costs time and not the request,
// then fails each request past its deadline with RequestTimeoutError. The timer runs only
// while something is watched.

import type { Platform, TimerId } from "../../platform/platform.js";
import { RequestTimeoutError } from "./errors.js";

export interface RequestWatchdogOptions {
  readonly platform: Pick<Platform, "clock" | "timers">;
  /** Where the device is, for RequestTimeoutError. */
  readonly location: string;
  /** A request watched this long (ms) fails with RequestTimeoutError. */
  readonly timeoutMs: number;
  /** Drains the driver's queue as its used-buffer callback would; called on every tick. */
  readonly poll: () => void;
  /** Called after a tick that failed `count` requests for their deadline (after the
   * timer stopped, if nothing is left to watch). */
  readonly onExpired?: (count: number) => void;
}

/** One watched request. */
export interface WatchedRequest {
  /** The request settled on its own: stop watching it. False if the watchdog had already
   * failed it (then the caller must not settle it again). */
  done(): boolean;
}

interface Entry {
  readonly at: number;
  readonly fail: (error: Error) => void;
}

export class RequestWatchdog {
  readonly #options: RequestWatchdogOptions;
  readonly #interval: number;
  readonly #entries = new Set<Entry>();
  #timer: TimerId | null = null;
  #ticking = false;

  constructor(options: RequestWatchdogOptions) {
    this.#options = options;
    // A quarter of the timeout, within 1..100 ms: a lost notification is found quickly,
    // and an idle device costs nothing (no timer).
    this.#interval = Math.max(1, Math.min(100, Math.floor(options.timeoutMs / 4)));
  }

  /** Requests watched now. */
  get watching(): number {
    return this.#entries.size;
  }

  /** Starts watching one request, due in timeoutMs from now. `fail` is called at most
   * once: with RequestTimeoutError past the deadline, or with failAll()'s error. */
  watch(fail: (error: Error) => void): WatchedRequest {
    const entry: Entry = { at: this.#options.platform.clock.now() + this.#options.timeoutMs, fail };
    this.#entries.add(entry);
    this.#start();
    return { done: () => this.#forget(entry) };
  }

  /** Fails every watched request with `error` and stops the timer (detach, unbind). */
  failAll(error: Error): void {
    const entries = [...this.#entries];
    this.#entries.clear();
    this.#stop();
    for (const entry of entries) entry.fail(error);
  }

  #forget(entry: Entry): boolean {
    if (!this.#entries.delete(entry)) return false;
    if (this.#entries.size === 0) this.#stop();
    return true;
  }

  #start(): void {
    if (this.#timer !== null) return;
    this.#timer = this.#options.platform.timers.repeat(() => this.#tick(), this.#interval);
  }

  #stop(): void {
    if (this.#timer === null) return;
    this.#options.platform.timers.clear(this.#timer);
    this.#timer = null;
  }

  #tick(): void {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const { platform, location, timeoutMs, poll, onExpired } = this.#options;
      poll();
      const now = platform.clock.now();
      let expired = 0;
      for (const entry of [...this.#entries]) {
        if (now < entry.at || !this.#entries.delete(entry)) continue;
        expired++;
        entry.fail(new RequestTimeoutError(location, timeoutMs));
      }
      if (this.#entries.size === 0) this.#stop();
      if (expired > 0) onExpired?.(expired);
    } finally {
      this.#ticking = false;
    }
  }
}
