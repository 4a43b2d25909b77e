// The transmit watchdog of a device driver (net, console). A transmit buffer belongs to
// the device until it returns it or is reset (§2.4, §2.7): a device that keeps them (hung,
// or a lost used-buffer notification) would hold the driver's transmit slots for good.
// While buffers are out, one repeating sweep timer (never one per buffer) drains the
// transmit queue(s) as the used-buffer callback would (a lost notification costs time, not
// the buffers), then measures the stall, and when it reaches timeoutMs calls onStall (the
// driver resets and re-initializes the device, which gives every buffer back). The timer
// stops at the first sweep that finds nothing out and is started again by the next arm().
// Nothing per write: arm() only starts the timer when it is not running; progress() only
// notes the time.
//
// The stall measure: by default the time since a buffer last came back (progress()) or
// since the sweep started; a driver that tracks each buffer passes `age` (e.g. how long the
// oldest buffer has been seen out).

import type { Platform, TimerId } from "../../platform/platform.js";

export interface TxWatchdogOptions {
  readonly platform: Pick<Platform, "clock" | "timers">;
  /** A stall this long (ms) calls onStall. 0: off. */
  readonly timeoutMs: number;
  /** Longest sweep interval (ms): the interval is a quarter of timeoutMs, 1 to this. */
  readonly maxSweepMs?: number;
  /** Drains the transmit queue(s) as the used-buffer callback would; called every sweep. */
  readonly poll: () => void;
  /** True while transmit buffers are with the device. */
  readonly busy: () => boolean;
  /** How long (ms) the transmit side has been stalled at `now`; by default the time since
   * the last progress() (or since the sweep started). */
  readonly age?: (now: number) => number;
  /** The stall reached timeoutMs (`ageMs` ≥ timeoutMs); the timer has stopped. */
  readonly onStall: (ageMs: number) => void;
}

export class TxWatchdog {
  readonly #options: TxWatchdogOptions;
  readonly #interval: number;
  #timer: TimerId | null = null;
  #progressAt = 0;
  readonly #tick = (): void => this.#sweep();

  constructor(options: TxWatchdogOptions) {
    const { timeoutMs, maxSweepMs = 100 } = options;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new RangeError(`txTimeoutMs ${timeoutMs} must be 0 (off) or more`);
    this.#options = options;
    // A quarter of the timeout, 1 to maxSweepMs: a stall is seen within timeoutMs + 2 sweeps.
    this.#interval = Math.max(1, Math.min(maxSweepMs, Math.floor(timeoutMs / 4)));
  }

  /** The sweep interval (ms). */
  get intervalMs(): number {
    return this.#interval;
  }

  /** True while the sweep timer runs. */
  get running(): boolean {
    return this.#timer !== null;
  }

  /** Transmit buffers went out: sweep from now on if not already (cheap when running). */
  arm(): void {
    if (this.#timer !== null || this.#options.timeoutMs === 0) return;
    this.#progressAt = this.#options.platform.clock.now();
    this.#timer = this.#options.platform.timers.repeat(this.#tick, this.#interval);
  }

  /** A transmit buffer came back (the default stall measure restarts). */
  progress(): void {
    if (this.#timer !== null) this.#progressAt = this.#options.platform.clock.now();
  }

  /** The queues are gone (reset, unbind, broken): no sweeping. Safe twice. */
  stop(): void {
    if (this.#timer === null) return;
    this.#options.platform.timers.clear(this.#timer);
    this.#timer = null;
  }

  #sweep(): void {
    const { platform, timeoutMs, poll, busy, age, onStall } = this.#options;
    poll();
    if (this.#timer === null) return; // the poll stopped it (the driver broke or reset)
    if (!busy()) return this.stop();
    const now = platform.clock.now();
    const stalledMs = age === undefined ? now - this.#progressAt : age(now);
    if (stalledMs < timeoutMs) return;
    this.stop();
    onStall(stalledMs);
  }
}
