// The virtio-mmio register file of one device (VIRTIO 1.2 §4.2.2; legacy §4.2.4),
// versions 1 and 2, behaving as the spec and QEMU's virtio-mmio do, and strict: every
// driver action the spec forbids is recorded as a violation (never thrown into the
// driver); the device then reacts as a real one would (ignores the write, refuses the
// status bit, or, for a broken ring, stops and asks for a reset).

import { DeviceChain } from "./chain.js";
import { ConfigSpace } from "./config-space.js";
import type { DeviceContext, DeviceModel } from "./device-model.js";
import { DeviceQueue, type QueueCounters, type RingLayout } from "./device-queue.js";
import { noFaults, type DeviceFaults } from "./faults.js";
import type { PhysicalMemory } from "./memory.js";
import type { MmioHandler, MmioWidth } from "./mmio-bus.js";
import { checkAreas, checkModernAlignment, legacyLayout } from "./queue-areas.js";
import { checkRegisterAccess } from "./register-map.js";
import type { HostScheduler } from "./scheduler.js";
import type { ViolationLog } from "./violations.js";
import {
  F_RING_EVENT_IDX, F_RING_INDIRECT_DESC, F_VERSION_1, INT_CONFIG_CHANGE, INT_USED_BUFFER,
  MMIO_MAGIC, QEMU_VENDOR_ID, REG, STATUS,
} from "./virtio-constants.js";

export interface MmioDeviceOptions {
  /** 1 legacy, 2 modern. */
  readonly version: 1 | 2;
  /** Offer VIRTIO_F_RING_INDIRECT_DESC (default true, as QEMU). */
  readonly indirect?: boolean;
  /** Offer VIRTIO_F_RING_EVENT_IDX (default true, as QEMU). */
  readonly eventIdx?: boolean;
  /** Serve a notification inside the QueueNotify write ("sync") or on a later turn
   * ("async", default). Interrupts are delivered asynchronously either way. */
  readonly processing?: "sync" | "async";
  /** Set VIRTQ_USED_F_NO_NOTIFY (or hold avail_event) while the device processes a
   * queue, as QEMU does (default false: the driver is always asked to notify). */
  readonly suppressNotifyWhileProcessing?: boolean;
}

/** Where the register file lives on the board and how it reaches the rest of the model. */
export interface MmioDeviceWiring {
  readonly slot: number;
  readonly base: number;
  readonly irq: number;
  readonly memory: PhysicalMemory;
  readonly scheduler: HostScheduler;
  readonly violations: ViolationLog;
  /** Raises the transport's interrupt line (an edge). */
  readonly raiseLine: () => void;
  /**
   * A front that signals interrupts by message (virtio-pci with MSI-X enabled): when it
   * returns true, the interrupt (`bits`, for `queue`, -1 for configuration) is sent as a
   * message and neither InterruptStatus nor the line is touched.
   */
  readonly messageSignal?: (bits: number, queue: number) => boolean;
  /** Write barriers executed so far on the platform (to check §2.7.13.3.1), if counted. */
  readonly writeBarriers?: () => number;
}

export interface DeviceCounters {
  /** QueueNotify writes. */
  notifications: number;
  /** Used buffer notifications decided by the device (InterruptStatus bit 0 set). */
  interrupts: number;
  /** Configuration change notifications (bit 1). */
  configInterrupts: number;
  /** Interrupt line edges actually raised. */
  lineRaises: number;
  /** Interrupts swallowed by the dropInterrupts fault. */
  droppedInterrupts: number;
  spuriousInterrupts: number;
  /** Chains returned through the used rings. */
  chains: number;
  /** Resets (Status written 0). */
  resets: number;
  configReads: number;
}

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;
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
  readonly #sync: boolean;
  readonly #suppress: boolean;
  #status = 0;
  /** Status reads left before a delayed reset reads back 0 (resetDelayReads fault). */
  #resetReadsLeft = 0;
  #statusBeforeReset = 0;
  #deviceFeaturesSel = 0;
  #driverFeaturesSel = 0;
  #driverFeatures = 0n;
  #negotiated = 0n;
  #guestPageSize = 0;
  #queueSel = 0;
  #interruptStatus = 0;
  #generation = 0;
  #epoch = 0;
  #broken = false;
  readonly #scheduled = new Set<number>();
  /** Per queue: avail idx and write-barrier count at set-up / the last notification. */
  readonly #barrierSeen = new Map<number, { idx: number; wmb: number }>();
  readonly #needsFlush = new Set<number>();
  /** Completions withheld by the holdChains fault. */
  readonly #withheld: [DeviceChain, number][] = [];
  #flushQueued = false;

  constructor(device: DeviceModel, options: MmioDeviceOptions, wiring: MmioDeviceWiring) {
    this.device = device;
    this.version = options.version;
    this.slot = wiring.slot;
    this.base = wiring.base;
    this.irq = wiring.irq;
    this.#w = wiring;
    this.#sync = options.processing === "sync";
    this.#suppress = options.suppressNotifyWhileProcessing ?? false;
    let offered = device.features;
    if (options.indirect ?? true) offered |= 1n << F_RING_INDIRECT_DESC;
    if (options.eventIdx ?? true) offered |= 1n << F_RING_EVENT_IDX;
    if (this.version === 2) offered |= 1n << F_VERSION_1;
    this.offeredFeatures = offered;
    const report = (fatal: boolean) => (rule: string, message: string) => {
      this.#violation(rule, message);
      if (fatal) this.#breakDevice();
    };
    this.#config = new ConfigSpace(device, (rule, message) => this.#violation(rule, message));
    this.#queues = Array.from({ length: device.queueCount }, (_, i) =>
      new DeviceQueue(i, device.queueMaxSize?.(i), wiring.memory, { violation: report(false), fatal: report(true) }));
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
    return this.#interruptStatus;
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
    this.#raise(INT_CONFIG_CHANGE);
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
    this.#queueFlush(chain.queue);
  }

  /** Raises the interrupt line with nothing new in InterruptStatus. */
  spuriousInterrupt(): void {
    this.counters.spuriousInterrupts++;
    this.counters.lineRaises++;
    this.#w.raiseLine();
  }

  /** The device's configuration changed (§4.2.2: generation, then interrupt). */
  configChanged(): void {
    this.#generation = (this.#generation + 1) >>> 0;
    this.#raise(INT_CONFIG_CHANGE);
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
        const q = this.#queues[this.#queueSel];
        return q ? q.maxSize : 0;
      }
      case REG.QueuePFN: return this.#queues[this.#queueSel]?.pfn ?? 0;
      case REG.QueueReady: return this.#queues[this.#queueSel]?.ready ?? 0;
      case REG.InterruptStatus: return this.#interruptStatus;
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
    const q = this.#queues[this.#queueSel];
    switch (offset) {
      case REG.DeviceFeaturesSel: this.#deviceFeaturesSel = value; return;
      case REG.DriverFeaturesSel: this.#driverFeaturesSel = value; return;
      case REG.DriverFeatures: return this.#writeDriverFeatures(value);
      case REG.GuestPageSize:
        if (!isPowerOfTwo(value)) this.#violation("legacy-page-size-invalid", `GuestPageSize ${value} is not a power of two (§4.2.4)`);
        else this.#guestPageSize = value;
        return;
      case REG.QueueSel: this.#queueSel = value; return;
      case REG.QueueNum: return this.#writeQueueNum(value);
      case REG.QueueAlign:
        if (!this.#queueWriteAllowed("QueueAlign", true) || !q) return;
        if (!isPowerOfTwo(value)) this.#violation("legacy-queue-align-invalid", `QueueAlign ${value} is not a power of two (§4.2.4)`);
        else q.align = value;
        return;
      case REG.QueuePFN: return this.#writeQueuePfn(value);
      case REG.QueueReady: return this.#writeQueueReady(value);
      case REG.QueueDescLow: case REG.QueueDescHigh:
      case REG.QueueDriverLow: case REG.QueueDriverHigh:
      case REG.QueueDeviceLow: case REG.QueueDeviceHigh:
        return this.#writeQueueAddress(offset, value);
      case REG.QueueNotify: return this.#notify(value);
      case REG.InterruptACK: this.#interruptStatus &= ~value; return;
      case REG.Status: return this.#writeStatus(value);
      case REG.SHMSel: return;
    }
  }

  #writeDriverFeatures(value: number): void {
    if (this.#status & STATUS.FEATURES_OK) {
      this.#violation("features-after-features-ok", `DriverFeatures written (${hex(value)}, word ${this.#driverFeaturesSel}) after FEATURES_OK (§3.1.1)`);
      return;
    }
    if (!(this.#status & STATUS.DRIVER)) {
      this.#violation("status-order", `DriverFeatures written before the DRIVER status bit (§3.1.1 step 4)`);
    }
    const sel = this.#driverFeaturesSel;
    if (sel > 1) {
      if (value !== 0) this.#violation("features-not-offered", `driver features word ${sel} = ${hex(value)}: the device offers no bits there`);
      return;
    }
    const word = BigInt(value >>> 0) << BigInt(32 * sel);
    const offeredWord = this.offeredFeatures & (0xffff_ffffn << BigInt(32 * sel));
    if (word & ~offeredWord) {
      this.#violation("features-not-offered", `driver features ${hex(word)} include bits the device did not offer: ${hex(word & ~offeredWord)} (§2.2.1)`);
    }
    this.#driverFeatures = (this.#driverFeatures & ~(0xffff_ffffn << BigInt(32 * sel))) | word;
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
    const cleared = old & ~value;
    if (cleared) this.#violation("status-bit-cleared", `Status ${hex(value)} clears bit(s) ${hex(cleared)}; only a reset clears status bits (§2.1.2)`);
    let set = value & ~old;
    if (set & STATUS.DEVICE_NEEDS_RESET) {
      this.#violation("status-device-bit", `the driver set DEVICE_NEEDS_RESET, which only the device sets (§2.1.2)`);
      set &= ~STATUS.DEVICE_NEEDS_RESET;
    }
    this.#checkStatusOrder(set, old | set);
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

  #checkStatusOrder(set: number, now: number): void {
    const need = (bit: number, name: string, required: number, names: string): void => {
      if (set & bit && (now & required) !== required) {
        this.#violation("status-order", `${name} set without ${names} (§3.1.1)`);
      }
    };
    need(STATUS.DRIVER, "DRIVER", STATUS.ACKNOWLEDGE, "ACKNOWLEDGE");
    need(STATUS.FEATURES_OK, "FEATURES_OK", STATUS.ACKNOWLEDGE | STATUS.DRIVER, "ACKNOWLEDGE and DRIVER");
    need(STATUS.DRIVER_OK, "DRIVER_OK", STATUS.ACKNOWLEDGE | STATUS.DRIVER |
      (this.version === 2 ? STATUS.FEATURES_OK : 0), this.version === 2 ? "ACKNOWLEDGE, DRIVER and FEATURES_OK" : "ACKNOWLEDGE and DRIVER");
    if (set & STATUS.FEATURES_OK && this.#status & STATUS.DRIVER_OK) {
      this.#violation("status-order", "FEATURES_OK set after DRIVER_OK (§3.1.1)");
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
    this.#interruptStatus = 0;
    this.#deviceFeaturesSel = this.#driverFeaturesSel = 0;
    this.#driverFeatures = this.#negotiated = 0n;
    this.#guestPageSize = 0;
    this.#queueSel = 0;
    this.#scheduled.clear();
    this.#needsFlush.clear();
    this.#withheld.length = 0;
    for (const q of this.#queues) q.resetRegisters();
    this.device.reset();
  }

  // ---- queue setup (§4.2.3.2 modern, §4.2.4 legacy) ----

  /** Common rules for writes that configure the selected queue. */
  #queueWriteAllowed(what: string, changesLayout: boolean): boolean {
    const q = this.#queues[this.#queueSel];
    if (!q) {
      this.#violation("queue-not-present", `${what} written for queue ${this.#queueSel}, which the device does not have (QueueNumMax reads 0)`);
      return false;
    }
    if (this.version === 2 && !(this.#status & STATUS.FEATURES_OK)) {
      this.#violation("queue-before-features-ok", `${what} written for queue ${q.index} before FEATURES_OK (§3.1.1 step 7)`);
    } else if (this.version === 1 && !(this.#status & STATUS.DRIVER)) {
      this.#violation("queue-before-features-ok", `${what} written for queue ${q.index} before the driver set DRIVER and its features (§3.1.1)`);
    }
    if (this.#status & STATUS.DRIVER_OK && changesLayout) {
      this.#violation("queue-setup-after-driver-ok", `${what} written for queue ${q.index} after DRIVER_OK (§3.1.1 step 7)`);
    }
    if (changesLayout && q.live) {
      this.#violation("queue-changed-while-ready", `${what} written for queue ${q.index} while it is live (§4.2.2.2)`);
      return false;
    }
    return true;
  }

  #writeQueueNum(value: number): void {
    if (!this.#queueWriteAllowed("QueueNum", true)) return;
    const q = this.#queues[this.#queueSel]!;
    if (value === 0) this.#violation("queue-num-zero", `QueueNum 0 for queue ${q.index}`);
    else if (!isPowerOfTwo(value)) this.#violation("queue-num-not-power-of-2", `QueueNum ${value} for queue ${q.index} is not a power of two (§2.7)`);
    else if (value > q.maxSize) this.#violation("queue-num-above-max", `QueueNum ${value} for queue ${q.index} is above QueueNumMax ${q.maxSize} (§4.2.2.2)`);
    else q.num = value;
  }

  #writeQueueAddress(offset: number, value: number): void {
    const names: Record<number, string> = {
      [REG.QueueDescLow]: "QueueDescLow", [REG.QueueDescHigh]: "QueueDescHigh",
      [REG.QueueDriverLow]: "QueueDriverLow", [REG.QueueDriverHigh]: "QueueDriverHigh",
      [REG.QueueDeviceLow]: "QueueDeviceLow", [REG.QueueDeviceHigh]: "QueueDeviceHigh",
    };
    if (!this.#queueWriteAllowed(names[offset]!, true)) return;
    const q = this.#queues[this.#queueSel]!;
    switch (offset) {
      case REG.QueueDescLow: q.descLow = value; q.written.desc = true; break;
      case REG.QueueDescHigh: q.descHigh = value; break;
      case REG.QueueDriverLow: q.driverLow = value; q.written.driver = true; break;
      case REG.QueueDriverHigh: q.driverHigh = value; break;
      case REG.QueueDeviceLow: q.deviceLow = value; q.written.device = true; break;
      case REG.QueueDeviceHigh: q.deviceHigh = value; break;
    }
  }

  #writeQueueReady(value: number): void {
    const q = this.#queues[this.#queueSel];
    if (value === 0) {
      if (!q) return this.#violation("queue-not-present", `QueueReady 0 for queue ${this.#queueSel}, which the device does not have`);
      q.ready = 0;
      q.deactivate();
      return;
    }
    if (value !== 1) this.#violation("queue-ready-invalid", `QueueReady ${value}: only 0 and 1 are defined`);
    if (!this.#queueWriteAllowed("QueueReady", true)) return;
    const queue = q!;
    const missing = (["desc", "driver", "device"] as const).filter((k) => !queue.written[k]);
    if (missing.length > 0) {
      return this.#violation("queue-ready-incomplete", `QueueReady for queue ${queue.index} before its ${missing.join("/")} address was written (§4.2.3.2)`);
    }
    const at = (low: number, high: number): number => high * 2 ** 32 + low;
    const layout = { desc: at(q!.descLow, q!.descHigh), avail: at(q!.driverLow, q!.driverHigh), used: at(q!.deviceLow, q!.deviceHigh) };
    const misaligned = checkModernAlignment(queue.index, layout);
    if (misaligned) return this.#violation(misaligned.rule, misaligned.message);
    if (this.#activate(queue, layout)) queue.ready = 1;
  }

  #writeQueuePfn(value: number): void {
    const q = this.#queues[this.#queueSel];
    if (value === 0) {
      if (!q) return this.#violation("queue-not-present", `QueuePFN 0 for queue ${this.#queueSel}, which the device does not have`);
      q.pfn = 0;
      q.deactivate();
      return;
    }
    if (!this.#queueWriteAllowed("QueuePFN", true)) return;
    const queue = q!;
    if (this.#guestPageSize === 0) {
      return this.#violation("legacy-page-size-unset", `QueuePFN for queue ${queue.index} before GuestPageSize was written (§4.2.4)`);
    }
    if (this.#activate(queue, legacyLayout(value, this.#guestPageSize, queue.num, queue.align))) queue.pfn = value;
  }

  /** Checks the areas lie in RAM and apart, then makes the queue live. */
  #activate(q: DeviceQueue, layout: RingLayout): boolean {
    const problem = checkAreas(this.#w.memory, q.index, q.num, layout);
    if (problem) {
      this.#violation(problem.rule, problem.message);
      return false;
    }
    this.#barrierSeen.set(q.index, { idx: 0, wmb: this.#w.writeBarriers?.() ?? 0 });
    const f = this.#negotiated || this.#driverFeatures;
    q.activate(layout, { indirect: (f & (1n << F_RING_INDIRECT_DESC)) !== 0n, eventIdx: (f & (1n << F_RING_EVENT_IDX)) !== 0n });
    return true;
  }

  // ---- notifications and processing ----

  #notify(value: number): void {
    this.counters.notifications++;
    const q = this.#queues[value];
    q?.noteNotification();
    if (q) this.#checkWriteBarrier(q);
    if (this.faults.spuriousInterrupts) this.spuriousInterrupt();
    if (!(this.#status & STATUS.DRIVER_OK)) {
      return this.#violation("notify-before-driver-ok", `QueueNotify ${value} before DRIVER_OK (§3.1.1 step 8)`);
    }
    if (!q || !q.live) {
      return this.#violation("notify-queue-not-ready", `QueueNotify for queue ${value}, which is not ${q ? "live" : "present"}`);
    }
    q.checkUsedArea();
    if (this.#sync) this.#runQueue(value, this.#epoch);
    else this.#scheduleQueue(value);
  }

  /**
   * §2.7.13.3.1: the driver MUST perform a write barrier before the avail idx update.
   * Checked at each notification: if avail idx moved since the last one, at least one
   * write barrier must have run since then.
   */
  #checkWriteBarrier(q: DeviceQueue): void {
    const count = this.#w.writeBarriers;
    const l = q.layout;
    if (!count || !l) return;
    const idx = this.#w.memory.read16(l.avail + 2); // avail.idx, 16-bit
    const wmb = count();
    const last = this.#barrierSeen.get(q.index);
    this.#barrierSeen.set(q.index, { idx, wmb });
    if (last && idx !== last.idx && wmb === last.wmb) {
      this.#violation("missing-wmb", `queue ${q.index}: avail idx moved to ${idx} with no write barrier since the last notification or queue set-up (§2.7.13.3.1)`);
    }
  }

  #scheduleQueue(index: number): void {
    if (this.#scheduled.has(index)) return;
    this.#scheduled.add(index);
    const epoch = this.#epoch;
    this.#w.scheduler.defer(() => {
      if (epoch !== this.#epoch) return;
      this.#scheduled.delete(index);
      this.#runQueue(index, epoch);
    });
  }

  #runQueue(index: number, epoch: number): void {
    const q = this.#queues[index]!;
    if (epoch !== this.#epoch || !q.live || this.#serving() === false) return;
    if (this.#suppress) q.setNotification(false);
    try {
      this.device.process(index);
    } catch (error) {
      this.#w.scheduler.onError(error); // a device model bug: recorded, never thrown into the driver
    }
    if (this.#suppress && q.live && this.#serving()) {
      q.setNotification(true);
      // Chains made available while notifications were off are served now (§2.7.10).
      if (q.available() > 0) this.#scheduleQueue(index);
    }
    this.#queueFlush(index);
  }

  /** The device serves queues only when running normally. */
  #serving(): boolean {
    return !this.#broken && (this.#status & STATUS.DRIVER_OK) !== 0 && (this.#status & STATUS.DEVICE_NEEDS_RESET) === 0;
  }

  /** After the device's turn, decide the used buffer notification once per queue. */
  #queueFlush(index: number): void {
    this.#needsFlush.add(index);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    const epoch = this.#epoch;
    queueMicrotask(() => {
      try {
        this.#flush(epoch);
      } catch (error) {
        this.#w.scheduler.onError(error);
      }
    });
  }

  /** Decides, once per queue touched in this turn, whether to interrupt (§2.7.10). */
  #flush(epoch: number): void {
    this.#flushQueued = false;
    if (epoch !== this.#epoch) return;
    const queues = [...this.#needsFlush];
    this.#needsFlush.clear();
    for (const i of queues) {
      const q = this.#queues[i]!;
      if (q.live && q.needInterrupt()) {
        q.counters.interrupts++;
        this.#raise(INT_USED_BUFFER, i);
      }
    }
  }

  /** Sets InterruptStatus bits and raises the line on its 0 -> non-zero edge. */
  #raise(bits: number, queue = -1): void {
    if (bits & INT_USED_BUFFER) this.counters.interrupts++;
    if (bits & INT_CONFIG_CHANGE) this.counters.configInterrupts++;
    if (this.#w.messageSignal !== undefined && !this.faults.dropInterrupts && this.#w.messageSignal(bits, queue)) {
      this.counters.lineRaises++;
      return;
    }
    const before = this.#interruptStatus;
    this.#interruptStatus |= bits;
    if (this.faults.dropInterrupts) {
      this.counters.droppedInterrupts++;
      return;
    }
    if (before === 0) {
      this.counters.lineRaises++;
      this.#w.raiseLine();
    }
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
