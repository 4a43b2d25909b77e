// The core's walk of one device's life (device.ts holds the device itself): bind and the
// initialization sequence of VIRTIO 1.2 §3.1.1 (written once, here), restart after
// DEVICE_NEEDS_RESET (§2.1.2) or a broken queue, failure with FAILED (§3.1.1), teardown
// (reset first, §2.4, then the driver lets go), the retried reset of a failed device, and
// unbind; each runs after the previous one, never overlapping.

import type { Platform } from "../../platform/platform.js";
import type { VirtioDevice } from "./device.js";
import type { DeviceState } from "./device-options.js";
import { ResetRetry, resetAndWait } from "./device-reset.js";
import type { DriverHold } from "./driver-hold.js";
import type { RemoveReason, VirtioDriver } from "./driver.js";
import { DeviceBrokenError, DeviceStateError, FeaturesRefusedError, ResetTimeoutError } from "./errors.js";
import { negotiateFeatures } from "./feature-negotiation.js";
import { NeedsResetBudget } from "./needs-reset-budget.js";
import { Status } from "./status.js";
import type { Transport } from "./transport.js";

/** What the lifecycle drives on its device: the state the device's hot paths (kick,
 * interrupt) read stays in the device, set from here. */
export interface LifecycleHost {
  readonly device: VirtioDevice;
  readonly transport: Transport;
  readonly platform: Platform;
  /** The driver's queues and its hold on the device. */
  readonly hold: DriverHold;
  /** The device's counters this side keeps. */
  readonly stats: { initializations: number; restarts: number };
  phase(): DeviceState;
  setPhase(phase: DeviceState): void;
  /** A reset was written and has not read back 0 yet (§2.4.1). */
  setResetPending(pending: boolean): void;
  setFeatures(features: bigint): void;
  attachIrq(): void;
  detachIrq(): void;
  /** Serves what InterruptStatus holds, if the interrupt is attached (not counted). */
  serveQuiet(): void;
}

export interface LifecycleOptions {
  readonly resetTimeoutMs: number;
  readonly maxNeedsResetRestarts: number;
  readonly needsResetWindowMs: number;
}

/** The status bits the driver sets in §3.1.1 (FAILED aside). */
const DRIVER_STATUS_BITS = Status.ACKNOWLEDGE | Status.DRIVER | Status.FEATURES_OK | Status.DRIVER_OK;

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

export class DeviceLifecycle {
  readonly #d: LifecycleHost;
  readonly #resetTimeoutMs: number;
  readonly #needsResetBudget: NeedsResetBudget;
  /** A failed device's reset that did not complete is tried again on this back-off. */
  readonly #resetRetry: ResetRetry;
  /** The running bind / restart / unbind, so that they never overlap. */
  #busy: Promise<void> = Promise.resolve();
  driver: VirtioDriver | null = null;
  /** The status bits the driver last wrote (or saw, for NEEDS_RESET). */
  status = 0;
  /** Feature bits the device offered at the last negotiation. */
  offered = 0n;
  /** Last error of the device or its driver. */
  error: Error | null = null;

  constructor(host: LifecycleHost, options: LifecycleOptions) {
    this.#d = host;
    this.#resetTimeoutMs = options.resetTimeoutMs;
    this.#needsResetBudget = new NeedsResetBudget(options.maxNeedsResetRestarts, options.needsResetWindowMs);
    this.#resetRetry = new ResetRetry(host.platform.timers);
  }

  get #location(): string {
    return this.#d.transport.location;
  }

  bind(driver: VirtioDriver): Promise<boolean> {
    return this.#serialize(async () => {
      if (this.driver !== null) throw new DeviceStateError(this.#location, `bound to ${this.driver.name}`, "bind");
      this.driver = driver;
      this.#d.attachIrq();
      await this.#initialize(driver);
    });
  }

  unbind(): Promise<boolean> {
    return this.#serialize(async () => {
      if (this.driver === null) return;
      if (!(await this.#teardown("unbind"))) {
        const error = this.error ?? new DeviceBrokenError(this.#location, "reset failed");
        await this.#fail(error);
        throw error;
      }
      this.driver = null;
      this.#d.detachIrq();
      this.#d.setPhase("unbound");
      this.status = 0;
      this.#d.setFeatures(0n);
    });
  }

  restart(): Promise<boolean> {
    return this.#serialize(async () => {
      const driver = this.driver;
      if (driver === null) return;
      this.#d.stats.restarts++;
      if (!(await this.#teardown("reset"))) {
        const error = this.error ?? new DeviceBrokenError(this.#location, "reset failed");
        await this.#fail(error);
        throw error;
      }
      await this.#initialize(driver, true);
    });
  }

  fail(error: Error, stillCurrent: () => boolean): Promise<boolean> {
    return this.#serialize(async () => {
      if (this.driver === null || !stillCurrent()) return;
      await this.#fail(error);
      if (this.#d.hold.driverHolds) throw this.error ?? error;
    });
  }

  resetDevice(): Promise<boolean> {
    return this.#serialize(async () => {
      if (this.driver !== null) throw new DeviceStateError(this.#location, `bound to ${this.driver.name}`, "reset");
      await this.#resetAndWait();
      this.status = 0;
    });
  }

  async settled(): Promise<void> {
    let busy: Promise<void>;
    do {
      busy = this.#busy;
      await busy;
    } while (busy !== this.#busy);
  }

  /** The device set DEVICE_NEEDS_RESET (§2.1.2): re-initialized, within the budget. */
  needsReset(): void {
    this.status |= Status.DEVICE_NEEDS_RESET;
    this.#d.setPhase("resetting");
    const budget = this.#needsResetBudget;
    if (!budget.spend(this.#d.platform.clock.now())) {
      const error = new DeviceBrokenError(
        this.#location,
        `device set DEVICE_NEEDS_RESET ${budget.max + 1} times in ${budget.windowMs} ms: given up`,
      );
      this.error = error;
      void this.#serialize(async () => {
        await this.#fail(error);
        throw error;
      });
      return;
    }
    this.error = new DeviceBrokenError(this.#location, "device set DEVICE_NEEDS_RESET");
    void this.restart();
  }

  /** Runs `job` after the previous one; records its error; resolves true on success. */
  #serialize(job: () => Promise<void>): Promise<boolean> {
    const run = this.#busy.then(job).then(
      () => true,
      (error: unknown) => {
        this.error = asError(error);
        return false;
      },
    );
    this.#busy = run.then(() => undefined);
    return run;
  }

  /** The device initialization sequence, VIRTIO 1.2 §3.1.1. */
  async #initialize(driver: VirtioDriver, justReset = false): Promise<void> {
    const d = this.#d;
    const t = d.transport;
    d.setPhase("initializing");
    this.error = null;
    d.setFeatures(0n);
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
      this.offered = t.deviceFeatures();
      const accepted = negotiateFeatures(d.device, driver, this.offered);
      t.setDriverFeatures(accepted);
      d.setFeatures(accepted);
      if (t.version !== 1) {
        // 5. Set FEATURES_OK; no feature bit may change after this.
        this.#setStatus(Status.ACKNOWLEDGE | Status.DRIVER | Status.FEATURES_OK);
        // 6. Re-read the status: FEATURES_OK still set, or the device refused the subset.
        if ((t.getStatus() & Status.FEATURES_OK) === 0) {
          this.status &= ~Status.FEATURES_OK; // the device did not keep it
          throw new FeaturesRefusedError(this.#location, this.offered, accepted);
        }
      }
      // (Legacy devices have no FEATURES_OK: a legacy driver skips steps 5 and 6, §3.1.2.)
      // 7. Device-specific setup: the driver reads the configuration and creates its queues.
      d.setPhase("setup");
      d.hold.probing();
      await driver.probe(d.device);
      // 8. Set DRIVER_OK: the device is live.
      this.#setStatus(this.status | Status.DRIVER_OK);
      d.setPhase("live");
      d.stats.initializations++;
      driver.ready?.(d.device);
      // An interrupt that came while the reset was pending was left alone: look once.
      d.serveQuiet();
    } catch (error) {
      await this.#fail(error);
      throw error;
    }
  }

  /** §3.1.1: "If any of these steps go irrecoverably wrong, the driver SHOULD set the FAILED
   * status bit". Queues already handed to the device are taken back by a reset first. */
  async #fail(error: unknown): Promise<void> {
    this.#d.setPhase("failed");
    const first = asError(error);
    try {
      if (first instanceof ResetTimeoutError) {
        // §2.4.2: nothing may be written until the reset completes; FAILED stays ours.
        this.status = Status.FAILED;
        this.error = first;
        if (this.#d.hold.holding) this.#quiesceAndRetry(first);
        return;
      }
      // The bits this driver set, plus FAILED (§2.1.2, §3.1.1): what the device reports is
      // not written back (a device claiming DRIVER_OK must not be made live by it), except
      // DEVICE_NEEDS_RESET, a device bit the driver must not clear.
      const reported = this.#d.transport.getStatus() & Status.DEVICE_NEEDS_RESET;
      this.#setStatus((this.status & DRIVER_STATUS_BITS) | reported | Status.FAILED);
      if (this.#d.hold.holding) {
        const resetOk = await this.#teardown("failed");
        this.#setStatus(Status.FAILED);
        if (!resetOk) this.#quiesceAndRetry(first);
      }
    } catch {
      // the first error is the one to report
    } finally {
      this.error = first;
      this.#d.setPhase("failed");
    }
  }

  /** Reset first (the device stops using memory), then the driver lets go, then the
   * queues are disabled and their rings freed. */
  async #teardown(reason: RemoveReason): Promise<boolean> {
    const d = this.#d;
    const driver = this.driver;
    const failedBefore = d.phase() === "failed";
    d.setPhase("resetting");
    let resetOk = true;
    try {
      await this.#resetAndWait();
    } catch (error) {
      resetOk = false;
      this.error = asError(error);
    }
    if (!resetOk) {
      // The device may still be using the rings and the driver's buffers: leave them all
      // in place (requests then fail by their own timeouts); a later teardown whose reset
      // succeeds gives them back.
      d.setPhase(failedBefore ? "failed" : "resetting");
      return false;
    }
    this.status = 0;
    d.hold.release(d.device, driver, reason, (error) => {
      this.error = error;
    });
    d.setPhase(failedBefore ? "failed" : "resetting");
    return true;
  }

  /** The driver stops taking work (its buffers stay out), and the reset is tried again. */
  #quiesceAndRetry(error: Error): void {
    try {
      this.driver?.quiesce?.(this.#d.device, error);
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
        if (this.#d.phase() !== "failed" || !this.#d.hold.holding) return;
        const first = this.error;
        const resetOk = await this.#teardown("failed");
        this.#d.setPhase("failed");
        this.error = first;
        if (resetOk) this.#setStatus(Status.FAILED);
        else this.#retryResetLater();
      });
    });
  }

  /** §2.4.1: write 0, then wait until the status reads 0, bounded (device-reset.ts). */
  #resetAndWait(): Promise<void> {
    this.#d.setResetPending(true);
    return resetAndWait(this.#d.transport, this.#d.platform, this.#resetTimeoutMs, () => {
      this.#d.setResetPending(false);
      this.status = 0;
      this.#resetRetry.completed();
    });
  }

  #setStatus(status: number): void {
    this.status = status;
    this.#d.transport.setStatus(status);
  }
}
