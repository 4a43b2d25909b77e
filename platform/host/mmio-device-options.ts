// The shapes around one virtio-mmio register file (VIRTIO 1.2 §4.2.2; legacy §4.2.4):
// the options a test chooses (version, offered ring features, how notifications are
// served), the wiring to the rest of the board model, and the counters tests read.

import type { PhysicalMemory } from "./memory.js";
import type { HostScheduler } from "./scheduler.js";
import type { ViolationLog } from "./violations.js";

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
