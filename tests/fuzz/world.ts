// One fuzz case's machine: the host model with one device, a platform whose clock and
// timers are virtual (tests/fuzz/virtual-time.ts) and whose DMA allocator is watched
// (watch.ts), the bus over it, and the bookkeeping every oracle shares: calls in flight,
// findings, and the rule that every error the stack hands out is one of its named ones.

import { createHostModel, type DeviceModel, type HostModel, type MmioDeviceModel } from "../../platform/host/index.js";
import type { Platform } from "../../platform/platform.js";
import { DmaExhaustedError } from "../../platform/dma-pool.js";
import { createBus } from "../../apps/bus.js";
import type { VirtioBus } from "../../drivers/virtio/bus.js";
import { VirtioError } from "../../drivers/virtio/errors.js";
import { QueueFullError, RingError } from "../../ring/errors.js";
import { VirtualTime } from "./virtual-time.js";
import { MemoryWatch } from "./watch.js";

export const SLOT = 31;

export interface Finding {
  /** The class: what kind of rule broke (e.g. "caller-buffer-changed"). */
  readonly kind: string;
  readonly message: string;
  /** Index of the step during or after which it was seen; -1 bring-up; the step count
   * for the end (heal, probe, shutdown). */
  readonly step: number;
}

/** The stack's named errors: what a caller may be handed. */
export function isNamedError(e: unknown): boolean {
  return e instanceof VirtioError || e instanceof RingError || e instanceof QueueFullError || e instanceof DmaExhaustedError;
}

export function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : `non-Error ${String(e)}`;
}

/** Oracles an undetectable used-ring lie defeats (see World.undetectableLie). */
const RELAXED = new Set([
  "data-mismatch", "caller-buffer-changed", "dma-freed-while-device-holds", "device-write-outside-dma",
  "violation:descriptor-in-flight", "violation:descriptor-modified-in-flight", "violation:avail-idx-jump",
]);

export class World {
  readonly model: HostModel;
  readonly time = new VirtualTime();
  readonly watch: MemoryWatch;
  readonly platform: Platform;
  readonly bus: VirtioBus;
  readonly findings: Finding[] = [];
  /** The step being run (see Finding.step). */
  step = -1;
  dev!: MmioDeviceModel;
  /** Calls not settled yet, by id (what they were). */
  readonly pending = new Map<number, string>();
  #nextCall = 0;
  #violationsSeen = 0;
  #escapedSeen = 0;
  /** Violation rules a lie in this case can cause (the driver believed it), not counted. */
  readonly excused = new Set<string>();

  constructor(ramSize = 4 << 20, dmaSize = 2 << 20) {
    this.model = createHostModel({ ramSize, dmaSize });
    this.watch = new MemoryWatch(this.model, (kind, message) => this.report(kind, message));
    this.time.onError = (e) => this.report("exception-escaped", `a timer callback threw ${describeError(e)}`);
    this.platform = { ...this.model.platform, clock: this.time, timers: this.time, dma: this.watch.dma };
    this.bus = createBus(this.platform);
  }

  /** Puts the device model in the slot QEMU fills first. */
  attach(device: DeviceModel, version: 1 | 2, options: { indirect?: boolean; eventIdx?: boolean; processing?: "sync" | "async" } = {}): MmioDeviceModel {
    this.dev = this.model.attach(SLOT, device, { ...options, version });
    this.watch.watchDevice(this.dev);
    return this.dev;
  }

  /** A used-ring lie the driver cannot tell from the truth (an element for a buffer that
   * was available but not used, one element twice, stale elements) was told in this case:
   * what the driver then makes of the buffers is the device's doing. */
  undetectableLie = false;
  /** The device kept chains for good in this case (loseChains): receive buffers it never
   * returns cannot be told from an idle device's, so a receive side may stay starved. */
  lostChains = false;

  report(kind: string, message: string): void {
    if (this.undetectableLie && RELAXED.has(kind)) return;
    if (this.findings.length < 50) this.findings.push({ kind, message, step: this.step });
  }

  /** A synchronous API call: what it throws must be a named error. */
  call<T>(what: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (!isNamedError(e)) this.report("unnamed-error", `${what} threw ${describeError(e)}`);
      return undefined;
    }
  }

  /** An asynchronous API call: it must settle (checked at the end) and reject only with
   * a named error. */
  track<T>(what: string, promise: Promise<T>, onValue?: (value: T) => void, onError?: (error: unknown) => void): void {
    const id = this.#nextCall++;
    this.pending.set(id, what);
    promise.then(
      (value) => {
        this.pending.delete(id);
        try {
          onValue?.(value);
        } catch (e) {
          this.report("fuzzer-error", `${what}: the oracle threw ${describeError(e)}`);
        }
      },
      (error: unknown) => {
        this.pending.delete(id);
        if (!isNamedError(error)) this.report("unnamed-error", `${what} rejected with ${describeError(error)}`);
        onError?.(error);
      },
    );
  }

  /** Lets device work, interrupts and promise jobs run until nothing is left. */
  async settle(): Promise<void> {
    try {
      await this.model.settle();
    } catch (e) {
      this.report("livelock", describeError(e));
    }
  }

  /** One event-loop turn. */
  turn(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Runs the machine for up to `ms` of virtual time, timer by timer, settling between,
   * until `until()` holds; returns whether it did (true without `until`). */
  async run(ms: number, until?: () => boolean): Promise<boolean> {
    const end = this.time.now() + ms;
    for (;;) {
      await this.settle();
      if (until?.()) return true;
      const due = this.time.nextDue();
      if (due === null || due > end) {
        this.time.fireNext(end);
        await this.settle();
        return until ? until() : true;
      }
      this.time.fireNext(due);
    }
  }

  /** New violations and escaped exceptions since the last look become findings. */
  checkModel(): void {
    const violations = this.model.violations;
    for (; this.#violationsSeen < violations.length; this.#violationsSeen++) {
      const v = violations[this.#violationsSeen]!;
      if (v.rule === "exception-escaped") continue; // counted below, with the error
      if (this.excused.has(v.rule)) continue;
      this.report(`violation:${v.rule}`, v.message);
    }
    const escaped = this.model.escapedErrors;
    for (; this.#escapedSeen < escaped.length; this.#escapedSeen++) {
      this.report("exception-escaped", describeError(escaped[this.#escapedSeen]));
    }
  }
}
