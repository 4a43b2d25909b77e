// Timers in the shape of Moddable's `Timer` (set, repeat, clear) over one hardware
// deadline: the queue keeps every timer, asks `arm` for the earliest deadline, and runs
// the due ones when the event loop calls `service()`. No host APIs: the clock, the
// deadline and the error report are passed in, so Node tests drive it with a fake clock.

import type { TimerCallback, TimerId, Timers } from "../platform.js";

interface Entry {
  readonly id: TimerId;
  readonly callback: TimerCallback;
  due: number;
  readonly repeat: number;
}

/** A bad argument to set/repeat: carries the value. */
export class TimerArgumentError extends Error {
  constructor(readonly argument: string, readonly value: unknown) {
    super(`timer: bad ${argument}: ${String(value)}`);
    this.name = "TimerArgumentError";
  }
}

export class TimerQueue implements Timers {
  readonly #now: () => number;
  readonly #arm: (deadline: number) => void;
  readonly #report: (error: unknown) => void;
  readonly #entries = new Map<TimerId, Entry>();
  #nextId = 1;
  #armed = -1;

  /** `arm(deadline)`: wake the loop at `deadline` ms (negative: no wake-up needed). */
  constructor(now: () => number, arm: (deadline: number) => void, report: (error: unknown) => void) {
    this.#now = now;
    this.#arm = arm;
    this.#report = report;
  }

  set(callback: TimerCallback, delay = 0, repeat?: number): TimerId {
    if (typeof callback !== "function") throw new TimerArgumentError("callback", callback);
    if (!(delay >= 0) || !Number.isFinite(delay)) throw new TimerArgumentError("delay", delay);
    if (repeat !== undefined && (!(repeat > 0) || !Number.isFinite(repeat))) throw new TimerArgumentError("repeat", repeat);
    const id = this.#nextId++;
    this.#entries.set(id, { id, callback, due: this.#now() + delay, repeat: repeat ?? 0 });
    this.#rearm();
    return id;
  }

  repeat(callback: TimerCallback, interval: number): TimerId {
    return this.set(callback, interval, interval);
  }

  clear(id: TimerId): void {
    if (this.#entries.delete(id)) this.#rearm();
  }

  /** Number of live timers. */
  get size(): number {
    return this.#entries.size;
  }

  /** Runs every timer that is due, in deadline order; a throwing callback is reported. */
  service(): void {
    const now = this.#now();
    const due = [...this.#entries.values()].filter((e) => e.due <= now).sort((a, b) => a.due - b.due || a.id - b.id);
    for (const e of due) {
      if (this.#entries.get(e.id) !== e) continue; // cleared by an earlier callback
      if (e.repeat > 0) {
        e.due += e.repeat;
        if (e.due <= now) e.due = now + e.repeat; // fell behind: do not run a burst
      } else {
        this.#entries.delete(e.id);
      }
      try {
        e.callback(e.id);
      } catch (error) {
        this.#report(error);
      }
    }
    this.#armed = NaN; // the loop cleared the hardware deadline: always re-arm
    this.#rearm();
  }

  #rearm(): void {
    let earliest = Infinity;
    for (const e of this.#entries.values()) if (e.due < earliest) earliest = e.due;
    const deadline = earliest === Infinity ? -1 : earliest;
    if (deadline !== this.#armed) {
      this.#armed = deadline;
      this.#arm(deadline);
    }
  }
}
