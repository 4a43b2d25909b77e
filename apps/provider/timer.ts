// Moddable's `timer` module on the platform's timers: Timer.set(callback, interval,
// repeat), Timer.repeat(callback, interval), Timer.schedule(timer, interval, repeat),
// Timer.clear(timer), Timer.delay(ms). A callback gets its timer; a one-shot timer that
// fired, or one scheduled without an interval, stays usable with schedule().

import type { Platform, TimerId } from "../../platform/platform.js";
import { provider } from "./context.js";

export type TimerCallback = (timer: Timer) => void;

function platform(): Platform {
  return provider("Timer").platform;
}

function checkInterval(name: string, value: unknown): number {
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) throw new RangeError(`${name} ${String(value)} must be a number of milliseconds ≥ 0`);
  return value;
}

export default class Timer {
  readonly #callback: TimerCallback;
  #id: TimerId | null = null;

  private constructor(callback: TimerCallback) {
    if (typeof callback !== "function") throw new TypeError("the timer callback must be a function");
    this.#callback = callback;
  }

  /** Calls `callback` after `interval` ms (default 0), then every `repeat` ms if given. */
  static set(callback: TimerCallback, interval = 0, repeat?: number): Timer {
    const timer = new Timer(callback);
    timer.#arm(checkInterval("interval", interval), repeat === undefined ? undefined : checkInterval("repeat", repeat));
    return timer;
  }

  /** Calls `callback` every `interval` ms. */
  static repeat(callback: TimerCallback, interval: number): Timer {
    checkInterval("interval", interval);
    return Timer.set(callback, interval, interval);
  }

  /** Re-arms `timer` (after `interval` ms, then every `repeat`); without an interval it is
   * unscheduled (kept for a later schedule()). */
  static schedule(timer: Timer, interval?: number, repeat?: number): void {
    if (!(timer instanceof Timer)) throw new TypeError("Timer.schedule() takes a Timer");
    timer.#disarm();
    if (interval === undefined) return;
    timer.#arm(checkInterval("interval", interval), repeat === undefined ? undefined : checkInterval("repeat", repeat));
  }

  /** Stops `timer`; a fired, cleared, null or undefined timer is ignored. */
  static clear(timer: Timer | null | undefined): void {
    if (timer === null || timer === undefined) return;
    if (!(timer instanceof Timer)) throw new TypeError("Timer.clear() takes a Timer");
    timer.#disarm();
  }

  /** Waits `ms` milliseconds without returning to the event loop (nothing else runs). */
  static delay(ms: number): void {
    checkInterval("delay", ms);
    const clock = platform().clock;
    const end = clock.now() + ms;
    while (clock.now() < end) {
      // busy wait, as Moddable's Timer.delay blocks
    }
  }

  #arm(interval: number, repeat: number | undefined): void {
    const timers = platform().timers;
    const fire = () => {
      if (repeat === undefined) this.#id = null;
      this.#callback(this);
    };
    this.#id = repeat === undefined ? timers.set(fire, interval) : timers.set(fire, interval, repeat);
  }

  #disarm(): void {
    if (this.#id !== null) platform().timers.clear(this.#id);
    this.#id = null;
  }
}
