// Resetting a device (VIRTIO 1.2 §2.4): writing 0 and waiting, bounded, until the status
// reads back 0 (§2.4.1), and the back-off on which the reset of a failed device that did
// not complete is tried again: until a reset completes the device may use the driver's
// buffers, and only then are they given back (§2.4).

import type { Platform, TimerId, Timers } from "../../platform/platform.js";
import { ResetTimeoutError } from "./errors.js";
import type { Transport } from "./transport.js";

/** The first retry after 250 ms, then twice as long each time up to 5 s, at most 60
 * times (about 5 minutes). */
const RESET_RETRY_FIRST_MS = 250;
const RESET_RETRY_MAX_MS = 5000;
const RESET_RETRIES = 60;

/**
 * §2.4.1: writes 0, then waits until the status reads 0, polling once a ms, bounded in
 * time and in polls by `timeoutMs` (ResetTimeoutError). `completed` runs as soon as the
 * status reads 0, before the returned promise settles.
 */
export async function resetAndWait(transport: Transport, platform: Platform, timeoutMs: number, completed: () => void): Promise<void> {
  transport.reset();
  const clock = platform.clock;
  const start = clock.now();
  let status = transport.getStatus();
  for (let polls = 0; status !== 0; polls++) {
    const waited = clock.now() - start;
    if (waited >= timeoutMs || polls >= timeoutMs) {
      throw new ResetTimeoutError(transport.location, status, Math.round(waited));
    }
    await sleep(platform.timers, 1);
    status = transport.getStatus();
  }
  completed();
}

function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => {
    timers.set(() => resolve(), ms);
  });
}

/** When the reset of a failed device is tried again (bounded, with back-off). */
export class ResetRetry {
  readonly #timers: Timers;
  #timer: TimerId | null = null;
  #retries = 0;

  constructor(timers: Timers) {
    this.#timers = timers;
  }

  /** Runs `attempt` after the next back-off delay, unless an attempt is already
   * scheduled or the retries are spent. */
  schedule(attempt: () => void): void {
    if (this.#timer !== null || this.#retries >= RESET_RETRIES) return;
    this.#timer = this.#timers.set(() => {
      this.#timer = null;
      this.#retries++;
      attempt();
    }, Math.min(RESET_RETRY_MAX_MS, RESET_RETRY_FIRST_MS * 2 ** this.#retries));
  }

  /** A reset completed: nothing stays scheduled and the back-off starts over. */
  completed(): void {
    this.#retries = 0;
    if (this.#timer !== null) this.#timers.clear(this.#timer);
    this.#timer = null;
  }
}
