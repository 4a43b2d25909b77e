// The transmit watchdog of a network device. A device may hang a transmit queue (take
// buffers and never return them): only a reset gives them back (§2.4, "A buffer belongs
// to the device until it returns it or is reset"). While frames are out, one repeating
// sweep timer (never one per frame) reclaims what came back (a lost interrupt costs time,
// not slots), stamps the frames it sees out for the first time, and when the oldest one
// has been out for timeoutMs calls onStall (the device resets the device). The timer
// stops at the first sweep that finds nothing out, and is armed again by the next send.

import type { Platform, TimerId } from "../../platform/platform.js";

export interface TxWatchdogOptions {
  readonly platform: Pick<Platform, "clock" | "timers">;
  /** A frame out this long (ms) is a stall. */
  readonly timeoutMs: number;
  /** Reclaims what the device returned (as the used-buffer callback would). */
  readonly poll: () => void;
  /** Frames the device holds now. */
  readonly inFlight: () => number;
  /** Stamps frames seen out for the first time with `now`; the age (ms) of the oldest. */
  readonly stampAndAge: (now: number) => number;
  /** The oldest frame has been out `ageMs` (≥ timeoutMs): the timer has stopped. */
  readonly onStall: (ageMs: number) => void;
}

export class TxWatchdog {
  readonly #options: TxWatchdogOptions;
  readonly #interval: number;
  #timer: TimerId | null = null;
  readonly #tick = (): void => this.#sweep();

  constructor(options: TxWatchdogOptions) {
    this.#options = options;
    // A quarter of the timeout, 1 to 250 ms: a stall is seen within timeoutMs + 2 sweeps.
    this.#interval = Math.max(1, Math.min(250, Math.floor(options.timeoutMs / 4)));
  }

  /** The sweep timer is running. */
  get running(): boolean {
    return this.#timer !== null;
  }

  /** A frame was sent: start sweeping if not already (cheap when running). */
  arm(): void {
    if (this.#timer !== null || this.#options.timeoutMs <= 0) return;
    this.#timer = this.#options.platform.timers.repeat(this.#tick, this.#interval);
  }

  /** Stops sweeping (the device is reset or let go). Safe twice. */
  stop(): void {
    if (this.#timer === null) return;
    this.#options.platform.timers.clear(this.#timer);
    this.#timer = null;
  }

  #sweep(): void {
    const { platform, timeoutMs, poll, inFlight, stampAndAge, onStall } = this.#options;
    poll();
    if (inFlight() === 0) {
      this.stop();
      return;
    }
    const age = stampAndAge(platform.clock.now());
    if (age < timeoutMs) return;
    this.stop();
    onStall(age);
  }
}
