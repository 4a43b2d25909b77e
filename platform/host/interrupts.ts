// The interrupt controller of the host model, with the semantics platform.ts states:
// a line that fires is latched pending; the dispatcher (from the event loop, never
// re-entrantly) masks it, runs its handler and then ends the interrupt (eoi), which
// unmasks it. A line that fires while disabled, unattached or in service stays pending
// and is delivered once it can be. Firing a pending line again is coalesced (a GIC
// latches one edge).

import type { InterruptHandler, Interrupts } from "../platform.js";
import type { HostScheduler } from "./scheduler.js";

interface LineState {
  handler: InterruptHandler | null;
  enabled: boolean;
  inService: boolean;
  pending: boolean;
  delivered: number;
  raised: number;
}

export class HostInterrupts implements Interrupts {
  readonly #lines = new Map<number, LineState>();
  readonly #scheduler: HostScheduler;
  #dispatchQueued = false;
  /** Receives what a handler threw (the line still gets its eoi). */
  onHandlerError: (line: number, error: unknown) => void = () => {};

  constructor(scheduler: HostScheduler) {
    this.#scheduler = scheduler;
  }

  #line(line: number): LineState {
    let s = this.#lines.get(line);
    if (!s) {
      s = { handler: null, enabled: false, inService: false, pending: false, delivered: 0, raised: 0 };
      this.#lines.set(line, s);
    }
    return s;
  }

  attach(line: number, handler: InterruptHandler): void {
    this.#line(line).handler = handler;
    this.#queueDispatch();
  }

  detach(line: number): void {
    const s = this.#line(line);
    s.handler = null;
    s.enabled = false;
  }

  enable(line: number): void {
    this.#line(line).enabled = true;
    this.#queueDispatch();
  }

  disable(line: number): void {
    this.#line(line).enabled = false;
  }

  eoi(line: number): void {
    this.#line(line).inService = false;
    this.#queueDispatch();
  }

  /** A device raises `line` (an edge): latched pending, delivered from the event loop. */
  raise(line: number): void {
    const s = this.#line(line);
    s.raised++;
    s.pending = true;
    this.#queueDispatch();
  }

  /** True if `line` is latched and not delivered yet. */
  isPending(line: number): boolean {
    return this.#lines.get(line)?.pending ?? false;
  }

  /** How many times the handler of `line` ran / the line was raised. */
  counts(line: number): { raised: number; delivered: number } {
    const s = this.#lines.get(line);
    return { raised: s?.raised ?? 0, delivered: s?.delivered ?? 0 };
  }

  /** Lines that would be delivered now (pending, attached, enabled, not in service). */
  #deliverable(): number[] {
    const out: number[] = [];
    for (const [line, s] of this.#lines) {
      if (s.pending && s.enabled && !s.inService && s.handler) out.push(line);
    }
    return out;
  }

  #queueDispatch(): void {
    if (this.#dispatchQueued || this.#deliverable().length === 0) return;
    this.#dispatchQueued = true;
    this.#scheduler.defer(() => this.#dispatch());
  }

  #dispatch(): void {
    this.#dispatchQueued = false;
    for (const line of this.#deliverable().sort((a, b) => a - b)) {
      const s = this.#line(line);
      if (!s.pending || !s.enabled || s.inService || !s.handler) continue;
      s.pending = false;
      s.inService = true;
      s.delivered++;
      try {
        s.handler(line);
      } catch (error) {
        this.onHandlerError(line, error);
      } finally {
        this.eoi(line);
      }
    }
  }
}
