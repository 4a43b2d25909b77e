// The shapes around one VirtioDevice (device.ts): the options the bus gives it (reset
// timeout of §2.4, default queue size, queue factory, the DEVICE_NEEDS_RESET budget of
// §2.1.2), the options a driver gives createQueue, its counters and its life states.

import type { Virtqueue, VirtqueueOptions } from "../../ring/virtqueue.js";
import type { QueueSizeRequest } from "./queue-size.js";

/** Builds a virtqueue; the default is `new SplitQueue(options)`. */
export type QueueFactory = <T>(options: VirtqueueOptions) => Virtqueue<T>;

export interface VirtioDeviceOptions {
  /** How long to wait for the status to read 0 after a reset (§2.4). Default 1000 ms. */
  readonly resetTimeoutMs?: number;
  /** Queue size used when the driver does not ask for one (capped by QueueNumMax). Default 256. */
  readonly defaultQueueSize?: number;
  readonly queueFactory?: QueueFactory;
  /**
   * DEVICE_NEEDS_RESET re-initializations allowed within `needsResetWindowMs`; one more
   * and the device is given up (reset, driver removed, FAILED): a device that asks for
   * a reset after every re-initialization must not keep the core re-initializing it for
   * ever. Default 4 in 60 000 ms.
   */
  readonly maxNeedsResetRestarts?: number;
  readonly needsResetWindowMs?: number;
}

/** `size` (wanted, capped by QueueNumMax) and `minSize` (the least the driver can work
 * with, checked at every (re-)initialization): see QueueSizeRequest (queue-size.ts). */
export interface QueueOptions extends QueueSizeRequest {
  /**
   * Called from the event loop when the device signalled used buffers (§2.7.14): the
   * driver drains the queue (see drain.ts). Errors it throws are recorded on the device.
   */
  readonly onUsed: () => void;
}

export interface DeviceStats {
  /** Interrupts handled for this device. */
  readonly interrupts: number;
  /** Interrupts with an empty InterruptStatus. */
  readonly spuriousInterrupts: number;
  readonly configChanges: number;
  /** Completed initializations (bind and every re-init). */
  readonly initializations: number;
  /** Re-initializations after DEVICE_NEEDS_RESET or restart(). */
  readonly restarts: number;
  /** Queue kicks while the device was not live: not written to QueueNotify. */
  readonly quiescedNotifies: number;
}

/** Where the device is in its life, as the core sees it: "live" between DRIVER_OK and the
 * start of the next reset only; in every other state its queues are quiesced. */
export type DeviceState = "unbound" | "initializing" | "setup" | "live" | "failed" | "resetting";
