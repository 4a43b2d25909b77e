// The transmit watchdog of a console device. A transmit buffer belongs to the device until
// it returns it or is reset (§2.7); a device that keeps them (hung, or a lost used-buffer
// notification) would leave `writable` at 0 for good. While any transmit buffer is out, one
// repeating timer sweeps: it drains the transmit queues (a lost notification costs time,
// not the buffers) and, when no buffer came back for `timeoutMs` while some are out, calls
// `onStall` (the port resets and re-initializes the device, which gives every buffer back).
// Nothing per write: a kick only starts the timer if it is not running; a completion only
// notes the time.

import type { Platform, TimerId } from "../../platform/platform.js";

export interface TxWatchdogOptions {
  readonly platform: Pick<Platform, "clock" | "timers">;
  /** No transmit buffer back for this long (ms) while some are out: a stall. 0: off. */
  readonly timeoutMs: number;
  /** Drains the transmit queue(s) as the used-buffer callback would. */
  readonly poll: () => void;
  /** True while transmit buffers are with the device. */
  readonly busy: () => boolean;
  /** The device kept its transmit buffers for timeoutMs (the timer has stopped). */
  readonly onStall: () => void;
}

export class TxWatchdog {
  readonly #options: TxWatchdogOptions;
  readonly #interval: number;
  #timer: TimerId | null = null;
  #progressAt = 0;

  constructor(options: TxWatchdogOptions) {
    if (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 0) throw new RangeError(`txTimeoutMs ${options.timeoutMs} must be a non-negative integer`);
    this.#options = options;
    // A quarter of the timeout, within 1..100 ms.
    this.#interval = Math.max(1, Math.min(100, Math.floor(options.timeoutMs / 4)));
  }

  /** True while the sweep timer runs. */
  get running(): boolean {
    return this.#timer !== null;
  }

  /** Transmit buffers went out: sweep from now on if not already. */
  armed(): void {
    if (this.#timer !== null || this.#options.timeoutMs === 0) return;
    this.#progressAt = this.#options.platform.clock.now();
    this.#timer = this.#options.platform.timers.repeat(() => this.#tick(), this.#interval);
  }

  /** A transmit buffer came back. */
  progress(): void {
    if (this.#timer !== null) this.#progressAt = this.#options.platform.clock.now();
  }

  /** The queues are gone (reset, unbind): no sweeping. */
  stop(): void {
    if (this.#timer === null) return;
    this.#options.platform.timers.clear(this.#timer);
    this.#timer = null;
  }

  #tick(): void {
    const { platform, timeoutMs, poll, busy, onStall } = this.#options;
    poll();
    if (this.#timer === null) return; // the poll stopped it (a reset began)
    if (!busy()) return this.stop();
    if (platform.clock.now() - this.#progressAt < timeoutMs) return;
    this.stop();
    onStall();
  }
}
