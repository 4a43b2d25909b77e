// Deferred work of the model (device processing, interrupt delivery, console input),
// run from the Node event loop with setImmediate and counted, so that `settle()` can
// tell when nothing is left to do. Exceptions thrown by deferred work are caught and
// reported through `onError`, never left to escape into the event loop.

export class HostScheduler {
  #pending = 0;
  /** Receives every exception thrown by deferred work. */
  onError: (error: unknown) => void = () => {};

  /** Runs `fn` on a later turn of the event loop. */
  defer(fn: () => void): void {
    this.#pending++;
    setImmediate(() => {
      this.#pending--;
      try {
        fn();
      } catch (error) {
        this.onError(error);
      }
    });
  }

  /** Deferred calls not yet run. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Resolves once no deferred work is pending (after letting promise jobs run between
   * turns). Rejects after `maxTurns` turns: a driver and device keeping each other busy
   * forever is a bug a test must see, not a hang.
   */
  async idle(maxTurns = 1_000_000): Promise<void> {
    for (let turn = 0; turn < maxTurns; turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.#pending === 0) return;
    }
    throw new Error(`host model did not settle within ${maxTurns} event-loop turns`);
  }
}
