// The virtio-mmio register file of one device (VIRTIO 1.2 §4.2.2; legacy §4.2.4),
// versions 1 and 2, behaving as the spec and QEMU's virtio-mmio do, and strict: every
// driver action the spec forbids is recorded as a violation (never thrown into the
// driver); the device then reacts as a real one would (ignores the write, refuses the
// status bit, or, for a broken ring, stops and asks for a reset).

import { DeviceChain } from "./chain.js";
import { ConfigSpace } from "./config-space.js";
import type { DeviceContext, DeviceModel } from "./device-model.js";
import { DeviceQueue, type QueueCounters } from "./device-queue.js";
import { noFaults, type DeviceFaults } from "./faults.js";
import type { MmioDeviceOptions, MmioDeviceWiring, DeviceCounters } from "./mmio-device-options.js";
import { InterruptSignal } from "./interrupt-signal.js";
import type { MmioHandler, MmioWidth } from "./mmio-bus.js";
import { MmioQueueService } from "./mmio-queue-service.js";
import { MmioQueueSetup } from "./mmio-queue-setup.js";
import { checkStatusOrder, mergeDriverFeatures, statusBitsSet } from "./negotiation-rules.js";
import { checkRegisterAccess } from "./register-map.js";
import {
  F_RING_EVENT_IDX, F_RING_INDIRECT_DESC, F_VERSION_1, INT_CONFIG_CHANGE, INT_USED_BUFFER,
  MMIO_MAGIC, QEMU_VENDOR_ID, REG, STATUS,
} from "./virtio-constants.js";
import { WriteBarrierCheck } from "./write-barrier-check.js";

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

export class MmioDeviceModel implements MmioHandler {
  readonly slot: number;
  readonly base: number;
  readonly irq: number;
  readonly version: 1 | 2;
  readonly device: DeviceModel;
  /** Fault switches; see faults.ts. */
  readonly faults: DeviceFaults = noFaults();
  readonly counters: DeviceCounters = {
    notifications: 0, interrupts: 0, configInterrupts: 0, lineRaises: 0, droppedInterrupts: 0,
    spuriousInterrupts: 0, chains: 0, resets: 0, configReads: 0,
  };
  /** All feature bits offered: the device's plus the transport's. */
  readonly offeredFeatures: bigint;

  readonly #w: MmioDeviceWiring;
  readonly #queues: DeviceQueue[];
  readonly #config: ConfigSpace;
  readonly #setup: MmioQueueSetup;
  readonly #service: MmioQueueService;
  readonly #barriers: WriteBarrierCheck;
  readonly #interrupts: InterruptSignal;
  #status = 0;
  /** Status reads left before a delayed reset reads back 0 (resetDelayReads fault). */
  #resetReadsLeft = 0;
  #statusBeforeReset = 0;
  #deviceFeaturesSel = 0;
  #driverFeaturesSel = 0;
  #driverFeatures = 0n;
  #negotiated = 0n;
  #generation = 0;
  #epoch = 0;
  #broken = false;
  /** Completions withheld by the holdChains fault. */
  readonly #withheld: [DeviceChain, number][] = [];

  constructor(device: DeviceModel, options: MmioDeviceOptions, wiring: MmioDeviceWiring) {
    this.device = device;
    this.version = options.version;
    this.slot = wiring.slot;
    this.base = wiring.base;
    this.irq = wiring.irq;
    this.#w = wiring;
    let offered = device.features;
    if (options.indirect ?? true) offered |= 1n << F_RING_INDIRECT_DESC;
    if (options.eventIdx ?? true) offered |= 1n << F_RING_EVENT_IDX;
    if (this.version === 2) offered |= 1n << F_VERSION_1;
    this.offeredFeatures = offered;
    const violation = (rule: string, message: string): void => this.#violation(rule, message);
    const report = (fatal: boolean) => (rule: string, message: string) => {
      this.#violation(rule, message);
      if (fatal) this.#breakDevice();
    };
    this.#config = new ConfigSpace(device, violation);
    this.#queues = Array.from({ length: device.queueCount }, (_, i) =>
      new DeviceQueue(i, device.queueMaxSize?.(i), wiring.memory, { violation: report(false), fatal: report(true) }));
    this.#interrupts = new InterruptSignal(this.counters, this.faults, wiring);
    this.#barriers = new WriteBarrierCheck(wiring.memory, wiring.writeBarriers, violation);
    this.#setup = new MmioQueueSetup(this.#queues, {
      version: this.version,
      memory: wiring.memory,
      status: () => this.#status,
      ringFeatures: () => this.#negotiated || this.#driverFeatures,
      activated: (index) => this.#barriers.armed(index),
      violation,
    });
    this.#service = new MmioQueueService(this.#queues, {
      scheduler: wiring.scheduler,
      sync: options.processing === "sync",
      suppress: options.suppressNotifyWhileProcessing ?? false,
      epoch: () => this.#epoch,
      serving: () => this.#serving(),
      process: (index) => device.process(index),
      usedBuffer: (index) => this.#interrupts.raise(INT_USED_BUFFER, index),
    });
    device.bind(this.#context());
  }

  // ---- what tests look at ----

  /** The Status register as the device holds it. */
  get status(): number {
    return this.#status;
  }
  /** Features accepted at FEATURES_OK (0n before). */
  get negotiatedFeatures(): bigint {
    return this.#negotiated;
  }
  get interruptStatus(): number {
    return this.#interrupts.status;
  }
  get configGeneration(): number {
    return this.#generation;
  }
  /** True once a ring violation stopped the device (until reset). */
  get broken(): boolean {
    return this.#broken;
  }
  get queueCount(): number {
    return this.#queues.length;
  }
  queue(index: number): DeviceQueue {
    const q = this.#queues[index];
    if (!q) throw new RangeError(`device ${this.device.name} has no queue ${index}`);
    return q;
  }
  queueCounters(index: number): QueueCounters {
    return this.queue(index).counters;
  }

  // ---- fault actions ----

  /** Sets DEVICE_NEEDS_RESET and sends a configuration change notification (§2.1.2). */
  needsReset(): void {
    this.#status |= STATUS.DEVICE_NEEDS_RESET;
    this.#interrupts.raise(INT_CONFIG_CHANGE);
  }

  /** Makes the completions the holdChains fault withheld (of chains not reset since). */
  releaseHeld(): void {
    const held = this.#withheld.splice(0);
    for (const [chain, written] of held) {
      if (chain.epoch === this.#epoch && this.#serving()) this.#completeNow(chain, written);
    }
  }

  #completeNow(chain: DeviceChain, written: number): void {
    const q = this.#queues[chain.queue];
    if (!q || !q.live) return;
    q.complete(chain, written, this.faults);
    this.counters.chains++;
    this.#service.queueFlush(chain.queue);
  }

  /** Raises the interrupt line with nothing new in InterruptStatus. */
  spuriousInterrupt(): void {
    this.#interrupts.spurious();
  }

  /** The device's configuration changed (§4.2.2: generation, then interrupt). */
  configChanged(): void {
    this.#generation = (this.#generation + 1) >>> 0;
    this.#interrupts.raise(INT_CONFIG_CHANGE);
  }

  // ---- register reads ----

  read(offset: number, width: MmioWidth): number {
    const value = this.#read(offset, width);
    const lie = this.faults.registerRead;
    return lie === null ? value : width === 4 ? lie(offset, width, value) >>> 0 : lie(offset, width, value) & ((1 << (8 * width)) - 1);
  }

  #read(offset: number, width: MmioWidth): number {
    if (offset >= REG.Config) return this.#readConfig(offset - REG.Config, width);
    const access = this.#access(offset, width, "read");
    if (!access) return 0;
    switch (offset) {
      case REG.MagicValue: return MMIO_MAGIC;
      case REG.Version: return this.version;
      case REG.DeviceID: return this.device.deviceId;
      case REG.VendorID: return QEMU_VENDOR_ID;
      case REG.DeviceFeatures:
        return this.#deviceFeaturesSel > 1 ? 0 : Number((this.offeredFeatures >> BigInt(32 * this.#deviceFeaturesSel)) & 0xffff_ffffn);
      case REG.QueueNumMax: {
        const q = this.#setup.selected;
        return q ? q.maxSize : 0;
      }
      case REG.QueuePFN: return this.#setup.selected?.pfn ?? 0;
      case REG.QueueReady: return this.#setup.selected?.ready ?? 0;
      case REG.InterruptStatus: return this.#interrupts.status;
      case REG.Status: return this.#readStatus();
      case REG.SHMLenLow: case REG.SHMLenHigh: case REG.SHMBaseLow: case REG.SHMBaseHigh:
        return 0xffff_ffff; // no shared memory regions (§4.2.2: length -1 = none)
      case REG.ConfigGeneration: return this.#generation;
    }
    return 0;
  }

  #readStatus(): number {
    if (this.#resetReadsLeft > 0) {
      this.#resetReadsLeft--;
      return this.#statusBeforeReset;
    }
    return this.#status;
  }

  /** Checks width, existence in this version and direction; records what is wrong. */
  #access(offset: number, width: MmioWidth, dir: "read" | "write"): boolean {
    const problem = checkRegisterAccess(this.version, offset, width, dir);
    if (problem) this.#violation(problem.rule, problem.message);
    return problem === null;
  }

  // ---- register writes ----

  write(offset: number, width: MmioWidth, value: number): void {
    if (this.#resetReadsLeft > 0 && offset !== REG.Status) {
      this.#violation("reset-not-complete", `write of ${hex(offset)} before Status read back 0 after a reset (§2.4.2)`);
      return;
    }
    if (offset >= REG.Config) return this.#writeConfig(offset - REG.Config, width, value);
    if (!this.#access(offset, width, "write")) return;
    switch (offset) {
      case REG.DeviceFeaturesSel: this.#deviceFeaturesSel = value; return;
      case REG.DriverFeaturesSel: this.#driverFeaturesSel = value; return;
      case REG.DriverFeatures:
        this.#driverFeatures = mergeDriverFeatures(this.#driverFeatures, this.#driverFeaturesSel, value,
          this.#status, this.offeredFeatures, (rule, message) => this.#violation(rule, message));
        return;
      case REG.GuestPageSize: case REG.QueueSel: case REG.QueueNum: case REG.QueueAlign:
      case REG.QueuePFN: case REG.QueueReady:
      case REG.QueueDescLow: case REG.QueueDescHigh:
      case REG.QueueDriverLow: case REG.QueueDriverHigh:
      case REG.QueueDeviceLow: case REG.QueueDeviceHigh:
        return this.#setup.write(offset, value);
      case REG.QueueNotify: return this.#notify(value);
      case REG.InterruptACK: this.#interrupts.ack(value); return;
      case REG.Status: return this.#writeStatus(value);
      case REG.SHMSel: return;
    }
  }

  // ---- status (§2.1, §3.1.1) ----

  #writeStatus(value: number): void {
    if (value === 0) return this.#reset();
    const old = this.#status;
    if (this.#resetReadsLeft > 0) {
      // Giving up on a reset that does not end (setting FAILED, §3.1.1) is allowed;
      // anything else is reinitializing too early.
      if (value & STATUS.FAILED) {
        this.#statusBeforeReset |= STATUS.FAILED;
        this.#status |= STATUS.FAILED;
      } else {
        this.#violation("reset-not-complete", `Status ${hex(value)} written before Status read back 0 after a reset (§2.4.2)`);
      }
      return;
    }
    const violation = (rule: string, message: string): void => this.#violation(rule, message);
    const set = statusBitsSet(old, value, violation);
    checkStatusOrder(this.version, set, old | set, old, violation);
    let next = (old | set) & ~STATUS.DEVICE_NEEDS_RESET;
    next |= old & STATUS.DEVICE_NEEDS_RESET;
    if (set & STATUS.FEATURES_OK && !this.#acceptFeatures()) next &= ~STATUS.FEATURES_OK;
    this.#status = next;
    if (set & STATUS.DRIVER_OK && next & STATUS.DRIVER_OK) {
      // A legacy driver has no FEATURES_OK step: its features stand once it is running.
      if (this.version === 1 && !(next & STATUS.FEATURES_OK)) {
        this.#negotiated = this.#driverFeatures & this.offeredFeatures;
        this.device.featuresAccepted?.(this.#negotiated);
      }
      this.device.driverOk?.();
    }
  }

  /** The device decides on FEATURES_OK (§3.1.1 step 5-6); false = the bit is not kept. */
  #acceptFeatures(): boolean {
    const f = this.#driverFeatures;
    if (this.version === 2 && !(f & (1n << F_VERSION_1))) {
      this.#violation("version-1-missing", `FEATURES_OK with driver features ${hex(f)} lacking VERSION_1 on a modern device (§6.1)`);
      return false;
    }
    if (f & ~this.offeredFeatures) return false; // recorded when the features were written
    if (this.faults.refuseFeaturesOk) return false;
    this.#negotiated = f;
    this.device.featuresAccepted?.(f);
    return true;
  }

  /** Status written 0 (§2.4): device, queues and interrupt status back to their reset state. */
  #reset(): void {
    this.counters.resets++;
    this.#statusBeforeReset = this.#status;
    // A delayed reset shows the old status for a few reads; from status 0 there is
    // nothing to show, and the first read of 0 ends it.
    this.#resetReadsLeft = this.#status === 0 ? 0 : this.faults.resetDelayReads;
    this.#epoch++;
    this.#status = 0;
    this.#broken = false;
    this.#interrupts.reset();
    this.#deviceFeaturesSel = this.#driverFeaturesSel = 0;
    this.#driverFeatures = this.#negotiated = 0n;
    this.#setup.reset();
    this.#service.reset();
    this.#withheld.length = 0;
    for (const q of this.#queues) q.resetRegisters();
    this.device.reset();
  }

  // ---- notifications and processing ----

  #notify(value: number): void {
    this.counters.notifications++;
    const q = this.#queues[value];
    q?.noteNotification();
    if (q) this.#barriers.check(q);
    if (this.faults.spuriousInterrupts) this.spuriousInterrupt();
    if (!(this.#status & STATUS.DRIVER_OK)) {
      return this.#violation("notify-before-driver-ok", `QueueNotify ${value} before DRIVER_OK (§3.1.1 step 8)`);
    }
    if (!q || !q.live) {
      return this.#violation("notify-queue-not-ready", `QueueNotify for queue ${value}, which is not ${q ? "live" : "present"}`);
    }
    q.checkUsedArea();
    this.#service.notified(value);
  }

  /** The device serves queues only when running normally. */
  #serving(): boolean {
    return !this.#broken && (this.#status & STATUS.DRIVER_OK) !== 0 && (this.#status & STATUS.DEVICE_NEEDS_RESET) === 0;
  }

  /** A ring rule broken: the device stops and, on a modern device, asks for a reset. */
  #breakDevice(): void {
    if (this.#broken) return;
    this.#broken = true;
    if (this.#negotiated & (1n << F_VERSION_1)) this.needsReset();
  }

  #violation(rule: string, message: string): void {
    this.#w.violations.record(this.slot, rule, `${this.device.name}: ${message}`);
  }

  // ---- device configuration space (§2.5, §4.2.2.2) ----

  #readConfig(offset: number, width: MmioWidth): number {
    this.counters.configReads++;
    const every = this.faults.configGenerationEvery;
    if (every > 0 && this.counters.configReads % every === 0) this.#generation = (this.#generation + 1) >>> 0;
    return this.#config.read(offset, width);
  }

  #writeConfig(offset: number, width: MmioWidth, value: number): void {
    if (this.version === 2 && !(this.#status & STATUS.FEATURES_OK)) {
      this.#violation("config-write-before-features-ok", `config write at ${hex(offset)} before FEATURES_OK (§3.1.1 step 4)`);
    }
    this.#config.write(offset, width, value);
  }

  // ---- the device model's view ----

  #context(): DeviceContext {
    const self = this;
    return {
      memory: this.#w.memory,
      get driverFeatures() {
        return self.#negotiated;
      },
      takeChain: (queue) => {
        const q = this.#queues[queue];
        if (!q || !this.#serving()) return null;
        return q.takeChain(this.#epoch);
      },
      complete: (chain: DeviceChain, written) => {
        if (chain.epoch !== this.#epoch) return; // the device was reset meanwhile
        if (!this.#serving()) return; // broken or needing a reset: nothing more is written
        if (this.faults.loseChains) return; // hung: the chain stays with the device
        if (this.faults.holdChains) {
          this.#withheld.push([chain, written]); // stalled: answered by releaseHeld()
          return;
        }
        this.#completeNow(chain, written);
      },
      later: (fn, turns = 1) => {
        const epoch = this.#epoch;
        const step = (left: number): void => {
          this.#w.scheduler.defer(() => {
            if (epoch !== this.#epoch) return;
            if (left > 1) step(left - 1);
            else fn();
          });
        };
        step(Math.max(1, turns));
      },
      configChanged: () => this.configChanged(),
      violation: (rule, message) => this.#violation(rule, message),
    };
  }
}
