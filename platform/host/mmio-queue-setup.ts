// The virtio-mmio registers that set a queue up (VIRTIO 1.2 §4.2.3.2 modern: QueueSel,
// QueueNum, the six area address halves, QueueReady; §4.2.4 legacy: GuestPageSize,
// QueueAlign, QueuePFN), with the rules on when they may be written, the queue size
// checks (§2.7, §4.2.2.2) and the area checks before a queue goes live.

import type { DeviceQueue, RingLayout } from "./device-queue.js";
import type { PhysicalMemory } from "./memory.js";
import type { RuleReporter } from "./negotiation-rules.js";
import { checkAreas, checkModernAlignment, legacyLayout } from "./queue-areas.js";
import { F_RING_EVENT_IDX, F_RING_INDIRECT_DESC, REG, STATUS } from "./virtio-constants.js";

/** What queue set-up needs from the register file around it. */
export interface QueueSetupContext {
  readonly version: 1 | 2;
  readonly memory: PhysicalMemory;
  /** The Status register as the device holds it. */
  status(): number;
  /** The features the ring flags follow: the negotiated ones, else those written. */
  ringFeatures(): bigint;
  /** Queue `index` went live. */
  activated(index: number): void;
  readonly violation: RuleReporter;
}

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

const ADDRESS_NAMES: Record<number, string> = {
  [REG.QueueDescLow]: "QueueDescLow", [REG.QueueDescHigh]: "QueueDescHigh",
  [REG.QueueDriverLow]: "QueueDriverLow", [REG.QueueDriverHigh]: "QueueDriverHigh",
  [REG.QueueDeviceLow]: "QueueDeviceLow", [REG.QueueDeviceHigh]: "QueueDeviceHigh",
};

export class MmioQueueSetup {
  readonly #queues: readonly DeviceQueue[];
  readonly #c: QueueSetupContext;
  #queueSel = 0;
  #guestPageSize = 0;

  constructor(queues: readonly DeviceQueue[], context: QueueSetupContext) {
    this.#queues = queues;
    this.#c = context;
  }

  /** The queue QueueSel selects (undefined past the device's queues). */
  get selected(): DeviceQueue | undefined {
    return this.#queues[this.#queueSel];
  }

  /** Status written 0 (§2.4): the selectors and page size back to 0. */
  reset(): void {
    this.#queueSel = 0;
    this.#guestPageSize = 0;
  }

  /** A write to one of the set-up registers (the file header lists them). */
  write(offset: number, value: number): void {
    switch (offset) {
      case REG.GuestPageSize:
        if (!isPowerOfTwo(value)) this.#c.violation("legacy-page-size-invalid", `GuestPageSize ${value} is not a power of two (§4.2.4)`);
        else this.#guestPageSize = value;
        return;
      case REG.QueueSel: this.#queueSel = value; return;
      case REG.QueueNum: return this.#writeQueueNum(value);
      case REG.QueueAlign: {
        const q = this.selected;
        if (!this.#queueWriteAllowed("QueueAlign", true) || !q) return;
        if (!isPowerOfTwo(value)) this.#c.violation("legacy-queue-align-invalid", `QueueAlign ${value} is not a power of two (§4.2.4)`);
        else q.align = value;
        return;
      }
      case REG.QueuePFN: return this.#writeQueuePfn(value);
      case REG.QueueReady: return this.#writeQueueReady(value);
      case REG.QueueDescLow: case REG.QueueDescHigh:
      case REG.QueueDriverLow: case REG.QueueDriverHigh:
      case REG.QueueDeviceLow: case REG.QueueDeviceHigh:
        return this.#writeQueueAddress(offset, value);
    }
  }

  /** Common rules for writes that configure the selected queue. */
  #queueWriteAllowed(what: string, changesLayout: boolean): boolean {
    const q = this.selected;
    const status = this.#c.status();
    if (!q) {
      this.#c.violation("queue-not-present", `${what} written for queue ${this.#queueSel}, which the device does not have (QueueNumMax reads 0)`);
      return false;
    }
    if (this.#c.version === 2 && !(status & STATUS.FEATURES_OK)) {
      this.#c.violation("queue-before-features-ok", `${what} written for queue ${q.index} before FEATURES_OK (§3.1.1 step 7)`);
    } else if (this.#c.version === 1 && !(status & STATUS.DRIVER)) {
      this.#c.violation("queue-before-features-ok", `${what} written for queue ${q.index} before the driver set DRIVER and its features (§3.1.1)`);
    }
    if (status & STATUS.DRIVER_OK && changesLayout) {
      this.#c.violation("queue-setup-after-driver-ok", `${what} written for queue ${q.index} after DRIVER_OK (§3.1.1 step 7)`);
    }
    if (changesLayout && q.live) {
      this.#c.violation("queue-changed-while-ready", `${what} written for queue ${q.index} while it is live (§4.2.2.2)`);
      return false;
    }
    return true;
  }

  #writeQueueNum(value: number): void {
    if (!this.#queueWriteAllowed("QueueNum", true)) return;
    const q = this.selected!;
    if (value === 0) this.#c.violation("queue-num-zero", `QueueNum 0 for queue ${q.index}`);
    else if (!isPowerOfTwo(value)) this.#c.violation("queue-num-not-power-of-2", `QueueNum ${value} for queue ${q.index} is not a power of two (§2.7)`);
    else if (value > q.maxSize) this.#c.violation("queue-num-above-max", `QueueNum ${value} for queue ${q.index} is above QueueNumMax ${q.maxSize} (§4.2.2.2)`);
    else q.num = value;
  }

  #writeQueueAddress(offset: number, value: number): void {
    if (!this.#queueWriteAllowed(ADDRESS_NAMES[offset]!, true)) return;
    const q = this.selected!;
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
    if (value === 0) return this.#takeBack("QueueReady");
    const q = this.selected;
    if (value !== 1) this.#c.violation("queue-ready-invalid", `QueueReady ${value}: only 0 and 1 are defined`);
    if (!this.#queueWriteAllowed("QueueReady", true)) return;
    const queue = q!;
    const missing = (["desc", "driver", "device"] as const).filter((k) => !queue.written[k]);
    if (missing.length > 0) {
      return this.#c.violation("queue-ready-incomplete", `QueueReady for queue ${queue.index} before its ${missing.join("/")} address was written (§4.2.3.2)`);
    }
    const at = (low: number, high: number): number => high * 2 ** 32 + low;
    const layout = { desc: at(queue.descLow, queue.descHigh), avail: at(queue.driverLow, queue.driverHigh), used: at(queue.deviceLow, queue.deviceHigh) };
    const misaligned = checkModernAlignment(queue.index, layout);
    if (misaligned) return this.#c.violation(misaligned.rule, misaligned.message);
    if (this.#activate(queue, layout)) queue.ready = 1;
  }

  #writeQueuePfn(value: number): void {
    if (value === 0) return this.#takeBack("QueuePFN");
    const q = this.selected;
    if (!this.#queueWriteAllowed("QueuePFN", true)) return;
    const queue = q!;
    if (this.#guestPageSize === 0) {
      return this.#c.violation("legacy-page-size-unset", `QueuePFN for queue ${queue.index} before GuestPageSize was written (§4.2.4)`);
    }
    if (this.#activate(queue, legacyLayout(value, this.#guestPageSize, queue.num, queue.align))) queue.pfn = value;
  }

  /** QueueReady or QueuePFN written 0: the selected queue stops (§4.2.2.2, §4.2.4). */
  #takeBack(register: "QueueReady" | "QueuePFN"): void {
    const q = this.selected;
    if (!q) return this.#c.violation("queue-not-present", `${register} 0 for queue ${this.#queueSel}, which the device does not have`);
    if (register === "QueueReady") q.ready = 0;
    else q.pfn = 0;
    q.deactivate();
  }

  /** Checks the areas lie in RAM and apart, then makes the queue live. */
  #activate(q: DeviceQueue, layout: RingLayout): boolean {
    const problem = checkAreas(this.#c.memory, q.index, q.num, layout);
    if (problem) {
      this.#c.violation(problem.rule, problem.message);
      return false;
    }
    this.#c.activated(q.index);
    const f = this.#c.ringFeatures();
    q.activate(layout, { indirect: (f & (1n << F_RING_INDIRECT_DESC)) !== 0n, eventIdx: (f & (1n << F_RING_EVENT_IDX)) !== 0n });
    return true;
  }
}
