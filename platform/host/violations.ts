// The record of every driver action the spec forbids, as seen by the device models.
// Recording never throws into the driver: the driver sees the device behave as a real
// one would (ignore the write, refuse the status bit, stop serving the queue), and the
// test sees the violation.

/** One forbidden driver action. `rule` is a short stable id, e.g. "queue-num-not-power-of-2". */
export interface Violation {
  /** Transport slot of the device that saw it. */
  readonly slot: number;
  readonly rule: string;
  readonly message: string;
}

export class ViolationLog {
  readonly #entries: Violation[] = [];

  record(slot: number, rule: string, message: string): void {
    this.#entries.push({ slot, rule, message });
  }

  get entries(): readonly Violation[] {
    return this.#entries;
  }

  /** Rule ids recorded so far (for a slot, if given), in order. */
  rules(slot?: number): string[] {
    return this.#entries.filter((v) => slot === undefined || v.slot === slot).map((v) => v.rule);
  }

  clear(): void {
    this.#entries.length = 0;
  }
}
