// How many DEVICE_NEEDS_RESET re-initializations (VIRTIO 1.2 §2.1.2) the core grants a
// device within a time window: a device that asks for a reset after every
// re-initialization must not keep the core re-initializing it for ever.

export class NeedsResetBudget {
  /** Re-initializations allowed within `windowMs`. */
  readonly max: number;
  readonly windowMs: number;
  /** When (clock ms) the recent re-initializations were asked for. */
  #times: number[] = [];

  constructor(max: number, windowMs: number) {
    this.max = max;
    this.windowMs = windowMs;
  }

  /** Counts one asked for at `now` (clock ms); false once the window's budget is spent. */
  spend(now: number): boolean {
    this.#times = this.#times.filter((t) => now - t < this.windowMs);
    this.#times.push(now);
    return this.#times.length <= this.max;
  }
}
