// One virtio device as the core drives it: what its driver sees (state, features,
// configuration access, VIRTIO 1.2 §2.5), queue creation for its driver (§3.1.1 step 7,
// §4.2.3.2), interrupt handling (§4.2.3.4) and configuration changes (§2.5.2). Its life
// (bind, the §3.1.1 sequence, DEVICE_NEEDS_RESET recovery, failure, teardown, unbind) is
// device-lifecycle.ts. It reaches the device only through a Transport; queues are built
// by a queue factory (SplitQueue by default) and know nothing of the transport.

import { deviceMemory } from "./device-memory.js";
import type { Platform } from "../../platform/platform.js";
import type { Virtqueue, VirtqueueOptions } from "../../ring/virtqueue.js";
import { SplitQueue } from "../../ring/split-queue.js";
import { readConfig, type ConfigReader } from "./config.js";
import type { DeviceInfo } from "./device-info.js";
import { DeviceLifecycle } from "./device-lifecycle.js";
import type { DeviceState, DeviceStats, QueueFactory, QueueOptions, VirtioDeviceOptions } from "./device-options.js";
import { deviceTypeName } from "./device-types.js";
import { DriverHold } from "./driver-hold.js";
import type { VirtioDriver } from "./driver.js";
import { DeviceStateError, QueueSetupError } from "./errors.js";
import { Feature, hasFeature } from "./features.js";
import { checkQueueRequest, chooseQueueSize } from "./queue-size.js";
import { Status, statusStep, type StatusStep } from "./status.js";
import { INTERRUPT_CONFIG_CHANGE, INTERRUPT_USED_BUFFER, type Transport } from "./transport.js";

export type { DeviceState, DeviceStats, QueueFactory, QueueOptions, VirtioDeviceOptions } from "./device-options.js";

type Phase = DeviceState;

const defaultQueueFactory: QueueFactory = <T>(options: VirtqueueOptions) => new SplitQueue<T>(options);

export class VirtioDevice {
  readonly transport: Transport;
  readonly slot: number;
  readonly base: number;
  readonly #platform: Platform;
  readonly #defaultQueueSize: number;
  readonly #queueFactory: QueueFactory;
  /** The driver's queues and its hold on the device, let go after a completed reset. */
  readonly #hold = new DriverHold();
  /** The driver's queues (#hold.queues), read on the interrupt path. */
  readonly #queues = this.#hold.queues;
  /** Bind, initialization, restart, failure, teardown, unbind (device-lifecycle.ts);
   * the state the kick and interrupt paths read stays here, set by it. */
  readonly #life: DeviceLifecycle;
  #phase: Phase = "unbound";
  /** A reset was written and has not read back 0 yet (§2.4.1). */
  #resetPending = false;
  #features = 0n;
  #irqAttached = false;
  readonly #stats = { interrupts: 0, spuriousInterrupts: 0, configChanges: 0, initializations: 0, restarts: 0, quiescedNotifies: 0 };

  constructor(platform: Platform, transport: Transport, slot: number, base: number, options: VirtioDeviceOptions = {}) {
    this.#platform = platform;
    this.transport = transport;
    this.slot = slot;
    this.base = base;
    this.#defaultQueueSize = options.defaultQueueSize ?? 256;
    this.#queueFactory = options.queueFactory ?? defaultQueueFactory;
    this.#life = new DeviceLifecycle({
      device: this,
      transport,
      platform,
      hold: this.#hold,
      stats: this.#stats,
      phase: () => this.#phase,
      setPhase: (phase) => {
        this.#phase = phase;
      },
      setResetPending: (pending) => {
        this.#resetPending = pending;
      },
      setFeatures: (features) => {
        this.#features = features;
      },
      attachIrq: () => this.#attachIrq(),
      detachIrq: () => this.#detachIrq(),
      serveQuiet: () => {
        if (this.#irqAttached) this.#onInterruptQuiet();
      },
    }, {
      resetTimeoutMs: options.resetTimeoutMs ?? 1000,
      maxNeedsResetRestarts: options.maxNeedsResetRestarts ?? 4,
      needsResetWindowMs: options.needsResetWindowMs ?? 60_000,
    });
  }

  /** e.g. "mmio@0x0a003e00". */
  get location(): string {
    return this.transport.location;
  }

  get deviceId(): number {
    return this.transport.deviceId;
  }

  get driver(): VirtioDriver | null {
    return this.#life.driver;
  }

  /** Furthest status step reached (DeviceInfo.status). */
  get step(): StatusStep {
    return statusStep(this.#life.status);
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
    return this.#life.offered;
  }

  /** Last error of the device or its driver. */
  get error(): Error | null {
    return this.#life.error;
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
      status: this.#life.driver === null && this.#phase === "unbound" ? "RESET" : this.step,
      features: this.#features,
      driver: this.#life.driver?.name ?? null,
      error: this.#life.error?.message ?? null,
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
    this.#life.error = error;
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
    return this.#life.bind(driver);
  }

  /** Lets go of the driver: reset, driver remove, queues freed. Never rejects. If the
   * device does not finish its reset, it stays bound and FAILED (its memory is kept). */
  unbind(): Promise<boolean> {
    return this.#life.unbind();
  }

  /**
   * Re-initializes the device with its driver: reset, driver remove (in-flight requests
   * fail), then the whole §3.1.1 sequence and driver probe again. Used on
   * DEVICE_NEEDS_RESET (§2.1.2); callable after a broken queue too. Never rejects.
   */
  restart(): Promise<boolean> {
    return this.#life.restart();
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
    return this.#life.fail(error, stillCurrent);
  }

  /** Resets an unbound device and waits for it (the bus does this at scan). */
  resetDevice(): Promise<boolean> {
    return this.#life.resetDevice();
  }

  /** Resolves once no bind, re-initialization or unbind is running. */
  settled(): Promise<void> {
    return this.#life.settled();
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
      this.#life.error = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** #serveInterrupt outside an interrupt: pending status served, not counted as an interrupt. */
  #onInterruptQuiet(): void {
    try {
      const isr = this.transport.interruptStatus();
      if ((isr & (INTERRUPT_USED_BUFFER | INTERRUPT_CONFIG_CHANGE)) !== 0) this.#serveInterrupt();
    } catch (error) {
      this.#life.error = error instanceof Error ? error : new Error(String(error));
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
          this.#life.error = error instanceof Error ? error : new Error(String(error));
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
      this.#life.needsReset();
      return;
    }
    try {
      this.#life.driver?.configChanged?.(this);
    } catch (error) {
      this.#life.error = error instanceof Error ? error : new Error(String(error));
    }
  }
}
