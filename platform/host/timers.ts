// Timers in Moddable's shape (set / repeat / clear) over Node's setTimeout/setInterval.
// An exception thrown by a callback is reported through `onError`, never left to escape.

import type { TimerCallback, TimerId, Timers } from "../platform.js";

export class HostTimers implements Timers {
  readonly #active = new Map<TimerId, { timeout?: ReturnType<typeof setTimeout>; interval?: ReturnType<typeof setInterval> }>();
  #nextId = 1;
  onError: (error: unknown) => void = () => {};

  set(callback: TimerCallback, delay = 0, repeat?: number): TimerId {
    const id = this.#nextId++;
    const entry: { timeout?: ReturnType<typeof setTimeout>; interval?: ReturnType<typeof setInterval> } = {};
    this.#active.set(id, entry);
    entry.timeout = setTimeout(() => {
      entry.timeout = undefined;
      if (repeat !== undefined && repeat > 0) {
        entry.interval = setInterval(() => this.#fire(id, callback), repeat);
      } else {
        this.#active.delete(id);
      }
      this.#fire(id, callback);
    }, Math.max(0, delay));
    return id;
  }

  repeat(callback: TimerCallback, interval: number): TimerId {
    return this.set(callback, interval, interval);
  }

  clear(id: TimerId): void {
    const entry = this.#active.get(id);
    if (!entry) return;
    if (entry.timeout !== undefined) clearTimeout(entry.timeout);
    if (entry.interval !== undefined) clearInterval(entry.interval);
    this.#active.delete(id);
  }

  /** Timers still scheduled. */
  get active(): number {
    return this.#active.size;
  }

  clearAll(): void {
    for (const id of [...this.#active.keys()]) this.clear(id);
  }

  #fire(id: TimerId, callback: TimerCallback): void {
    try {
      callback(id);
    } catch (error) {
      this.onError(error);
    }
  }
}
