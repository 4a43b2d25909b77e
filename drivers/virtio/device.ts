// One virtio device as the core drives it: the initialization sequence of VIRTIO 1.2
// §3.1.1 (written once, here), feature negotiation, queue creation for its driver,
// interrupt handling, configuration changes, DEVICE_NEEDS_RESET recovery and teardown.
// It reaches the device only through a Transport; queues are built by a queue factory
// (SplitQueue by default) and know nothing of the transport.

import { deviceMemory } from "./device-memory.js";
import type { Platform } from "../../platform/platform.js";
import type { Virtqueue, VirtqueueOptions } from "../../ring/virtqueue.js";
import { SplitQueue } from "../../ring/split-queue.js";
import { readConfig, type ConfigReader } from "./config.js";
import type { DeviceInfo } from "./device-info.js";
import type { DeviceState, DeviceStats, QueueFactory, QueueOptions, VirtioDeviceOptions } from "./device-options.js";
import { ResetRetry, resetAndWait } from "./device-reset.js";
import { deviceTypeName } from "./device-types.js";
import { DriverHold } from "./driver-hold.js";
import type { RemoveReason, VirtioDriver } from "./driver.js";
import {
  DeviceBrokenError,
  DeviceStateError,
  FeaturesRefusedError,
  QueueSetupError,
  ResetTimeoutError,
} from "./errors.js";
import { negotiateFeatures } from "./feature-negotiation.js";
import { Feature, hasFeature } from "./features.js";
import { NeedsResetBudget } from "./needs-reset-budget.js";
import { checkQueueRequest, chooseQueueSize } from "./queue-size.js";
import { Status, statusStep, type StatusStep } from "./status.js";
import { INTERRUPT_CONFIG_CHANGE, INTERRUPT_USED_BUFFER, type Transport } from "./transport.js";

export type { DeviceState, DeviceStats, QueueFactory, QueueOptions, VirtioDeviceOptions } from "./device-options.js";

type Phase = DeviceState;

/** The status bits the driver sets in §3.1.1 (FAILED aside). */
const DRIVER_STATUS_BITS = Status.ACKNOWLEDGE | Status.DRIVER | Status.FEATURES_OK | Status.DRIVER_OK;

const defaultQueueFactory: QueueFactory = <T>(options: VirtqueueOptions) => new SplitQueue<T>(options);

export class VirtioDevice {
  readonly transport: Transport;
  readonly slot: number;
  readonly base: number;
  readonly #platform: Platform;
  readonly #resetTimeoutMs: number;
  readonly #defaultQueueSize: number;
  readonly #queueFactory: QueueFactory;
  readonly #needsResetBudget: NeedsResetBudget;
  /** The driver's queues and its hold on the device, let go after a completed reset. */
  readonly #hold = new DriverHold();
  /** The driver's queues (#hold.queues), read on the interrupt path. */
  readonly #queues = this.#hold.queues;
  #driver: VirtioDriver | null = null;
  #phase: Phase = "unbound";
  /** A reset was written and has not read back 0 yet (§2.4.1). */
  #resetPending = false;
  /** A failed device's reset that did not complete is tried again on this back-off. */
  readonly #resetRetry: ResetRetry;
  /** The status bits the driver last wrote (or saw, for NEEDS_RESET). */
  #status = 0;
  #offered = 0n;
  #features = 0n;
  #error: Error | null = null;
  #irqAttached = false;
  /** The running bind / restart / unbind, so that they never overlap. */
  #busy: Promise<void> = Promise.resolve();
  #stats = { interrupts: 0, spuriousInterrupts: 0, configChanges: 0, initializations: 0, restarts: 0, quiescedNotifies: 0 };

  constructor(platform: Platform, transport: Transport, slot: number, base: number, options: VirtioDeviceOptions = {}) {
    this.#platform = platform;
    this.transport = transport;
    this.slot = slot;
    this.base = base;
    this.#resetTimeoutMs = options.resetTimeoutMs ?? 1000;
    this.#defaultQueueSize = options.defaultQueueSize ?? 256;
    this.#queueFactory = options.queueFactory ?? defaultQueueFactory;
    this.#needsResetBudget = new NeedsResetBudget(options.maxNeedsResetRestarts ?? 4, options.needsResetWindowMs ?? 60_000);
    this.#resetRetry = new ResetRetry(platform.timers);
  }

  /** e.g. "mmio@0x0a003e00". */
  get location(): string {
    return this.transport.location;
  }

  get deviceId(): number {
    return this.transport.deviceId;
  }

  get driver(): VirtioDriver | null {
    return this.#driver;
  }

  /** Furthest status step reached (DeviceInfo.status). */
  get step(): StatusStep {
    return statusStep(this.#status);
  }

  /** True between DRIVER_OK and the start of the next reset (or failure, or unbind). */
  get live(): boolean {
    return this.#phase === "live";
  }

  /** Where the device is in its life (DeviceState), e.g. "resetting" while the core
   * waits for a reset to complete: for error messages and tests. */
  get state(): DeviceState {
    return this.#phase;
  }

  /** Feature bits negotiated (0n before negotiation). */
  get features(): bigint {
    return this.#features;
  }

  /** Feature bits the device offered at the last negotiation. */
  get offeredFeatures(): bigint {
    return this.#offered;
  }

  /** Last error of the device or its driver. */
  get error(): Error | null {
    return this.#error;
  }

  get platform(): Platform {
    return this.#platform;
  }

  hasFeature(n: number): boolean {
    return hasFeature(this.#features, n);
  }

  stats(): DeviceStats {
    return { ...this.#stats };
  }

  info(): DeviceInfo {
    const t = this.transport;
    return {
      slot: this.slot,
      base: this.base,
      irq: t.irq,
      version: t.version,
      deviceId: t.deviceId,
      type: deviceTypeName(t.deviceId),
      vendorId: t.vendorId,
      status: this.#driver === null && this.#phase === "unbound" ? "RESET" : this.step,
      features: this.#features,
      driver: this.#driver?.name ?? null,
      error: this.#error?.message ?? null,
    };
  }

  /** Reads configuration fields consistently (§2.5.1; generation-checked on version 2). */
  readConfig<T>(read: (config: ConfigReader) => T): T {
    return readConfig(this.transport, read);
  }

  /** Writes a device-specific configuration field of the given width (§2.5, §4.2.2.2). */
  writeConfig8(offset: number, value: number): void {
    this.transport.writeConfig8(offset, value);
  }
  writeConfig16(offset: number, value: number): void {
    this.transport.writeConfig16(offset, value);
  }
  writeConfig32(offset: number, value: number): void {
    this.transport.writeConfig32(offset, value);
  }

  /** Records an error the driver saw (a broken queue, a bad config value). */
  reportError(error: Error): void {
    this.#error = error;
  }

  /** The live queue `index`, if the driver created it. */
  queue<T>(index: number): Virtqueue<T> | undefined {
    return this.#queues.get(index)?.queue as Virtqueue<T> | undefined;
  }

  /**
   * Creates virtqueue `index` for the driver, during its probe (§3.1.1 step 7, §4.2.3.2):
   * checks the queue exists and is not in use, picks a power-of-two size within
   * QueueNumMax, builds the ring with the negotiated indirect / EVENT_IDX flags and the
   * transport's layout, and hands its addresses to the transport.
   */
  createQueue<T>(index: number, options: QueueOptions): Virtqueue<T> {
    const where = this.location;
    if (this.#phase !== "setup") throw new DeviceStateError(where, this.#phase, `create queue ${index}`);
    if (this.#queues.has(index)) throw new QueueSetupError(where, index, "already created");
    checkQueueRequest(where, index, options);
    const max = this.transport.queueMaxSize(index);
    if (max === 0) throw new QueueSetupError(where, index, "not available (QueueNumMax 0)");
    if (this.transport.queueInUse(index)) throw new QueueSetupError(where, index, "already in use by the device");
    // Checked at every (re-)initialization against the driver's minimum (queue-size.ts).
    // A legacy virtio-pci queue has the device's size, no other (§4.1.4.8: no queue_size write).
    const size = chooseQueueSize(where, index, max, this.transport.fixedQueueSize === true, options.size ?? this.#defaultQueueSize, options);
    const queue = this.#queueFactory<T>({
      index,
      size,
      dma: deviceMemory(this.#platform),
      barriers: this.#platform.barriers,
      layout: this.transport.queueLayout,
      indirect: this.hasFeature(Feature.RING_INDIRECT_DESC),
      eventIdx: this.hasFeature(Feature.RING_EVENT_IDX),
      // Quiescing (§3.1.1 step 8, §2.4.2): a queue notifies only a live device; a kick
      // while it is being reset, set up or given up is counted and not written.
      notify: () => {
        if (this.#phase === "live") this.transport.notify(index);
        else this.#stats.quiescedNotifies++;
      },
    });
    try {
      this.transport.enableQueue(index, queue.addresses);
    } catch (error) {
      queue.destroy();
      throw error;
    }
    this.#queues.set(index, { queue: queue as Virtqueue<unknown>, onUsed: options.onUsed });
    return queue;
  }

  /** Binds `driver` and initializes the device for it. Never rejects: failures leave the
   * device FAILED with `error` set; the result says whether it reached DRIVER_OK. */
  bind(driver: VirtioDriver): Promise<boolean> {
    return this.#serialize(async () => {
      if (this.#driver !== null) throw new DeviceStateError(this.location, `bound to ${this.#driver.name}`, "bind");
      this.#driver = driver;
      this.#attachIrq();
      await this.#initialize(driver);
    });
  }

  /** Lets go of the driver: reset, driver remove, queues freed. Never rejects. If the
   * device does not finish its reset, it stays bound and FAILED (its memory is kept). */
  unbind(): Promise<boolean> {
    return this.#serialize(async () => {
      if (this.#driver === null) return;
      if (!(await this.#teardown("unbind"))) {
        const error = this.#error ?? new DeviceBrokenError(this.location, "reset failed");
        await this.#fail(error);
        throw error;
      }
      this.#driver = null;
      this.#detachIrq();
      this.#phase = "unbound";
      this.#status = 0;
      this.#features = 0n;
    });
  }

  /**
   * Re-initializes the device with its driver: reset, driver remove (in-flight requests
   * fail), then the whole §3.1.1 sequence and driver probe again. Used on
   * DEVICE_NEEDS_RESET (§2.1.2); callable after a broken queue too. Never rejects.
   */
  restart(): Promise<boolean> {
    return this.#serialize(async () => {
      const driver = this.#driver;
      if (driver === null) return;
      this.#stats.restarts++;
      if (!(await this.#teardown("reset"))) {
        const error = this.#error ?? new DeviceBrokenError(this.location, "reset failed");
        await this.#fail(error);
        throw error;
      }
      await this.#initialize(driver, true);
    });
  }

  /**
   * The driver found the device broke a rule it cannot recover from by itself (a broken
   * ring): reset it, so that it lets go of every buffer (§2.4: a buffer is the device's
   * until it returns it or is reset), the driver lets go (remove "failed", its requests
   * fail), and the device stays FAILED with `error` until restart(). Skipped when
   * `stillCurrent()` says false by the time it runs (a re-initialization came first).
   * Never rejects; false if the reset did not complete (the driver still holds its queues).
   */
  fail(error: Error, stillCurrent: () => boolean = () => true): Promise<boolean> {
    return this.#serialize(async () => {
      if (this.#driver === null || !stillCurrent()) return;
      await this.#fail(error);
      if (this.#hold.driverHolds) throw this.#error ?? error;
    });
  }

  /** Resets an unbound device and waits for it (the bus does this at scan). */
  resetDevice(): Promise<boolean> {
    return this.#serialize(async () => {
      if (this.#driver !== null) throw new DeviceStateError(this.location, `bound to ${this.#driver.name}`, "reset");
      await this.#resetAndWait();
      this.#status = 0;
    });
  }

  /** Resolves once no bind, re-initialization or unbind is running. */
  async settled(): Promise<void> {
    let busy: Promise<void>;
    do {
      busy = this.#busy;
      await busy;
    } while (busy !== this.#busy);
  }

  /** Runs `job` after the previous one; records its error; resolves true on success. */
  #serialize(job: () => Promise<void>): Promise<boolean> {
    const run = this.#busy.then(job).then(
      () => true,
      (error: unknown) => {
        this.#error = error instanceof Error ? error : new Error(String(error));
        return false;
      },
    );
    this.#busy = run.then(() => undefined);
    return run;
  }

  /** The device initialization sequence, VIRTIO 1.2 §3.1.1. */
  async #initialize(driver: VirtioDriver, justReset = false): Promise<void> {
    const t = this.transport;
    this.#phase = "initializing";
    this.#error = null;
    this.#features = 0n;
    try {
      // 1. Reset the device, and wait until it reads back 0 (§2.4.1) - unless a teardown
      //    just did exactly that.
      if (!justReset) await this.#resetAndWait();
      // 2. Set ACKNOWLEDGE: the guest has noticed the device.
      this.#setStatus(Status.ACKNOWLEDGE);
      // 3. Set DRIVER: the guest knows how to drive it.
      this.#setStatus(Status.ACKNOWLEDGE | Status.DRIVER);
      // 4. Read the device features, keep the subset the driver and the core understand,
      //    write it back (§2.2).
      this.#offered = t.deviceFeatures();
      const accepted = negotiateFeatures(this, driver, this.#offered);
      t.setDriverFeatures(accepted);
      this.#features = accepted;
      if (t.version !== 1) {
        // 5. Set FEATURES_OK; no feature bit may change after this.
        this.#setStatus(Status.ACKNOWLEDGE | Status.DRIVER | Status.FEATURES_OK);
        // 6. Re-read the status: FEATURES_OK still set, or the device refused the subset.
        if ((t.getStatus() & Status.FEATURES_OK) === 0) {
          this.#status &= ~Status.FEATURES_OK; // the device did not keep it
          throw new FeaturesRefusedError(this.location, this.#offered, accepted);
        }
      }
      // (Legacy devices have no FEATURES_OK: a legacy driver skips steps 5 and 6, §3.1.2.)
      // 7. Device-specific setup: the driver reads the configuration and creates its queues.
      this.#phase = "setup";
      this.#hold.probing();
      await driver.probe(this);
      // 8. Set DRIVER_OK: the device is live.
      this.#setStatus(this.#status | Status.DRIVER_OK);
      this.#phase = "live";
      this.#stats.initializations++;
      driver.ready?.(this);
      // An interrupt that came while the reset was pending was left alone: look once.
      if (this.#irqAttached) this.#onInterruptQuiet();
    } catch (error) {
      await this.#fail(error);
      throw error;
    }
  }

  /** §3.1.1: "If any of these steps go irrecoverably wrong, the driver SHOULD set the FAILED
   * status bit". Queues already handed to the device are taken back by a reset first. */
  async #fail(error: unknown): Promise<void> {
    this.#phase = "failed";
    const first = error instanceof Error ? error : new Error(String(error));
    try {
      if (first instanceof ResetTimeoutError) {
        // §2.4.2: nothing may be written until the reset completes; FAILED stays ours.
        this.#status = Status.FAILED;
        this.#error = first;
        if (this.#hold.holding) this.#quiesceAndRetry(first);
        return;
      }
      // The bits this driver set, plus FAILED (§2.1.2, §3.1.1): what the device reports is
      // not written back (a device claiming DRIVER_OK must not be made live by it), except
      // DEVICE_NEEDS_RESET, a device bit the driver must not clear.
      const reported = this.transport.getStatus() & Status.DEVICE_NEEDS_RESET;
      this.#setStatus((this.#status & DRIVER_STATUS_BITS) | reported | Status.FAILED);
      if (this.#hold.holding) {
        const resetOk = await this.#teardown("failed");
        this.#setStatus(Status.FAILED);
        if (!resetOk) this.#quiesceAndRetry(first);
      }
    } catch {
      // the first error is the one to report
    } finally {
      this.#error = first;
      this.#phase = "failed";
    }
  }

  /** Reset first (the device stops using memory), then the driver lets go, then the
   * queues are disabled and their rings freed. */
  async #teardown(reason: RemoveReason): Promise<boolean> {
    const driver = this.#driver;
    const failedBefore = this.#phase === "failed";
    this.#phase = "resetting";
    let resetOk = true;
    try {
      await this.#resetAndWait();
    } catch (error) {
      resetOk = false;
      this.#error = error instanceof Error ? error : new Error(String(error));
    }
    if (!resetOk) {
      // The device may still be using the rings and the driver's buffers: leave them all
      // in place (requests then fail by their own timeouts); a later teardown whose reset
      // succeeds gives them back.
      this.#phase = failedBefore ? "failed" : "resetting";
      return false;
    }
    this.#status = 0;
    this.#hold.release(this, driver, reason, (error) => {
      this.#error = error;
    });
    this.#phase = failedBefore ? "failed" : "resetting";
    return true;
  }

  /** The driver stops taking work (its buffers stay out), and the reset is tried again. */
  #quiesceAndRetry(error: Error): void {
    try {
      this.#driver?.quiesce?.(this, error);
    } catch {
      // a driver's failure here changes nothing: the device is failed already
    }
    this.#retryResetLater();
  }

  /**
   * The reset of a failed device did not complete: the driver still holds its queues and
   * requests, which the device may still use. Tried again later (bounded): once a reset
   * completes, the driver lets go (remove "failed": its requests fail and their memory is
   * freed) and the device stays FAILED until restart().
   */
  #retryResetLater(): void {
    this.#resetRetry.schedule(() => {
      void this.#serialize(async () => {
        if (this.#phase !== "failed" || !(this.#hold.holding)) return;
        const first = this.#error;
        const resetOk = await this.#teardown("failed");
        this.#phase = "failed";
        this.#error = first;
        if (resetOk) this.#setStatus(Status.FAILED);
        else this.#retryResetLater();
      });
    });
  }

  /** §2.4.1: write 0, then wait until the status reads 0, bounded (device-reset.ts). */
  #resetAndWait(): Promise<void> {
    this.#resetPending = true;
    return resetAndWait(this.transport, this.#platform, this.#resetTimeoutMs, () => {
      this.#resetPending = false;
      this.#status = 0;
      this.#resetRetry.completed();
    });
  }

  #setStatus(status: number): void {
    this.#status = status;
    this.transport.setStatus(status);
  }

  #attachIrq(): void {
    if (this.#irqAttached) return;
    const irq = this.transport.interrupts ?? this.#platform.irq; // a PCI transport routes its own
    irq.attach(this.transport.irq, () => this.#onInterrupt());
    irq.enable(this.transport.irq);
    this.#irqAttached = true;
  }

  #detachIrq(): void {
    if (!this.#irqAttached) return;
    const irq = this.transport.interrupts ?? this.#platform.irq;
    irq.disable(this.transport.irq);
    irq.detach(this.transport.irq);
    this.#irqAttached = false;
  }

  /** The interrupt handler (§4.2.3.4): read InterruptStatus, acknowledge it, then let
   * each queue's owner drain it and/or handle the configuration change. Runs from the
   * event loop; nothing it calls may throw out of it. */
  #onInterrupt(): void {
    this.#stats.interrupts++;
    try {
      this.#serveInterrupt();
    } catch (error) {
      // A register access that faulted (a bus error on XS), or anything else: recorded on
      // the device, never thrown into the platform's dispatcher.
      this.#error = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** #serveInterrupt outside an interrupt: pending status served, not counted as an interrupt. */
  #onInterruptQuiet(): void {
    try {
      const isr = this.transport.interruptStatus();
      if ((isr & (INTERRUPT_USED_BUFFER | INTERRUPT_CONFIG_CHANGE)) !== 0) this.#serveInterrupt();
    } catch (error) {
      this.#error = error instanceof Error ? error : new Error(String(error));
    }
  }

  #serveInterrupt(): void {
    // §2.4.1: while a reset has not read back 0 the device is not there to talk to: no
    // register but Status is touched (InterruptStatus is read again once the device is live).
    if (this.#resetPending) return;
    const isr = this.transport.interruptStatus();
    if ((isr & (INTERRUPT_USED_BUFFER | INTERRUPT_CONFIG_CHANGE)) === 0) {
      this.#stats.spuriousInterrupts++;
      return;
    }
    // Acknowledge only the bits §4.2.2 defines (the rest are reserved), and only those seen.
    this.transport.ackInterrupt(isr & (INTERRUPT_USED_BUFFER | INTERRUPT_CONFIG_CHANGE));
    if (this.#phase !== "live" && this.#phase !== "setup") return; // resetting: nothing to drain
    if (isr & INTERRUPT_USED_BUFFER) {
      for (const entry of this.#queues.values()) {
        try {
          entry.onUsed();
        } catch (error) {
          this.#error = error instanceof Error ? error : new Error(String(error));
        }
      }
    }
    if (isr & INTERRUPT_CONFIG_CHANGE) this.#onConfigChange();
  }

  /** §2.5.2 / §2.1.2: a configuration change interrupt; DEVICE_NEEDS_RESET leads to a re-init. */
  #onConfigChange(): void {
    this.#stats.configChanges++;
    const status = this.transport.getStatus();
    if (status & Status.DEVICE_NEEDS_RESET) {
      this.#status |= Status.DEVICE_NEEDS_RESET;
      this.#phase = "resetting";
      const budget = this.#needsResetBudget;
      if (!budget.spend(this.#platform.clock.now())) {
        const error = new DeviceBrokenError(
          this.location,
          `device set DEVICE_NEEDS_RESET ${budget.max + 1} times in ${budget.windowMs} ms: given up`,
        );
        this.#error = error;
        void this.#serialize(async () => {
          await this.#fail(error);
          throw error;
        });
        return;
      }
      this.#error = new DeviceBrokenError(this.location, "device set DEVICE_NEEDS_RESET");
      void this.restart();
      return;
    }
    try {
      this.#driver?.configChanged?.(this);
    } catch (error) {
      this.#error = error instanceof Error ? error : new Error(String(error));
    }
  }
}
