// How a virtio-mmio device model signals its driver (VIRTIO 1.2 §4.2.2 InterruptStatus
// and InterruptACK, §4.2.3.4): bits set in InterruptStatus and the line raised on its
// 0 -> non-zero edge, or a message instead when the front signals by message (MSI-X);
// the dropInterrupts fault swallows them, counted.

import type { DeviceFaults } from "./faults.js";
import type { DeviceCounters, MmioDeviceWiring } from "./mmio-device-options.js";
import { INT_CONFIG_CHANGE, INT_USED_BUFFER } from "./virtio-constants.js";

export class InterruptSignal {
  readonly #counters: DeviceCounters;
  readonly #faults: DeviceFaults;
  readonly #w: MmioDeviceWiring;
  #status = 0;

  constructor(counters: DeviceCounters, faults: DeviceFaults, wiring: MmioDeviceWiring) {
    this.#counters = counters;
    this.#faults = faults;
    this.#w = wiring;
  }

  /** The InterruptStatus register. */
  get status(): number {
    return this.#status;
  }

  /** An InterruptACK write: the bits in `value` are cleared. */
  ack(value: number): void {
    this.#status &= ~value;
  }

  /** Status written 0 (§2.4). */
  reset(): void {
    this.#status = 0;
  }

  /** Sets InterruptStatus bits (for `queue`, -1 for configuration) and raises the line on
   * its 0 -> non-zero edge. */
  raise(bits: number, queue = -1): void {
    const counters = this.#counters;
    if (bits & INT_USED_BUFFER) counters.interrupts++;
    if (bits & INT_CONFIG_CHANGE) counters.configInterrupts++;
    if (this.#w.messageSignal !== undefined && !this.#faults.dropInterrupts && this.#w.messageSignal(bits, queue)) {
      counters.lineRaises++;
      return;
    }
    const before = this.#status;
    this.#status |= bits;
    if (this.#faults.dropInterrupts) {
      counters.droppedInterrupts++;
      return;
    }
    if (before === 0) {
      counters.lineRaises++;
      this.#w.raiseLine();
    }
  }

  /** Raises the line with nothing new in InterruptStatus. */
  spurious(): void {
    this.#counters.spuriousInterrupts++;
    this.#counters.lineRaises++;
    this.#w.raiseLine();
  }
}
