// Virtual time for the fuzzer: a clock and Moddable-shaped timers that move only when
// the fuzzer says so, so timeouts, watchdog polls and reset waits happen in the same
// order on every run (and a 10 s timeout costs nothing). Exceptions thrown by a
// callback are reported, never left to escape.

import type { Clock, TimerCallback, TimerId, Timers } from "../../platform/platform.js";

interface Entry {
  readonly id: TimerId;
  at: number;
  readonly repeat: number;
  readonly callback: TimerCallback;
}

export class VirtualTime implements Timers, Clock {
  #now = 0;
  #nextId = 1;
  readonly #entries = new Map<TimerId, Entry>();
  /** Receives what a callback threw. */
  onError: (error: unknown) => void = () => {};

  now(): number {
    return this.#now;
  }

  set(callback: TimerCallback, delay = 0, repeat?: number): TimerId {
    const id = this.#nextId++;
    const d = Number.isFinite(delay) ? Math.max(0, delay) : 0;
    this.#entries.set(id, { id, at: this.#now + d, repeat: repeat !== undefined && repeat > 0 ? repeat : 0, callback });
    return id;
  }

  repeat(callback: TimerCallback, interval: number): TimerId {
    return this.set(callback, interval, interval);
  }

  clear(id: TimerId): void {
    this.#entries.delete(id);
  }

  /** Timers still scheduled. */
  get active(): number {
    return this.#entries.size;
  }

  /** When the next timer is due (null: none). */
  nextDue(): number | null {
    let due: number | null = null;
    for (const e of this.#entries.values()) if (due === null || e.at < due) due = e.at;
    return due;
  }

  /** Moves the clock to `at` (never back) and runs the first timer due by then, if any;
   * returns whether one ran. Call again (after letting jobs run) for the next. */
  fireNext(at: number): boolean {
    let first: Entry | null = null;
    for (const e of this.#entries.values()) {
      if (e.at <= at && (first === null || e.at < first.at || (e.at === first.at && e.id < first.id))) first = e;
    }
    if (first === null) {
      this.#now = Math.max(this.#now, at);
      return false;
    }
    this.#now = Math.max(this.#now, first.at);
    if (first.repeat > 0) first.at = this.#now + first.repeat;
    else this.#entries.delete(first.id);
    try {
      first.callback(first.id);
    } catch (error) {
      this.onError(error);
    }
    return true;
  }

  clearAll(): void {
    this.#entries.clear();
  }
}
