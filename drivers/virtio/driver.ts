// What a device driver gives the core (the Linux virtio bus's `struct virtio_driver`, in
// small): the device IDs it serves, the features it wants, and probe / remove hooks.
// A driver sees the VirtioDevice (core) and its virtqueues, never a register.

import type { VirtioDevice } from "./device.js";

/** Why a driver is asked to let go of a device. */
export type RemoveReason =
  /** The driver or the device is being unregistered / unbound. */
  | "unbind"
  /** The core is re-initializing the device (DEVICE_NEEDS_RESET, or restart()); probe follows. */
  | "reset"
  /** Initialization failed after probe started. */
  | "failed";

export interface VirtioDriver {
  /** e.g. "virtio-rng". */
  readonly name: string;
  /** Device IDs (§5) this driver serves. */
  readonly deviceIds: readonly number[];
  /**
   * Pure: given the feature bits the device offers, the device-type bits (0-23, §5) the
   * driver accepts. Transport bits (24-40) are the core's business and are ignored here;
   * anything not offered is dropped.
   */
  features(offered: bigint): bigint;
  /**
   * Optional, still in negotiation (§3.1.1 step 4: the driver "MAY read (but MUST NOT
   * write) the device-specific configuration fields to check that it can support the
   * device before accepting it"): given the bits about to be written, returns the ones
   * kept; anything else is dropped. E.g. net drops MAC when the device's address is not
   * usable (§5.1.5: with MAC negotiated the driver must use it). Throwing fails the device.
   */
  checkFeatures?(device: VirtioDevice, accepted: bigint): bigint;
  /**
   * Device-specific setup (§3.1.1 step 7), between FEATURES_OK and DRIVER_OK: read the
   * configuration, create queues with `device.createQueue()`. It may add buffers but must
   * not kick: notifications are allowed only after DRIVER_OK (see `ready`).
   * Throwing (or rejecting) fails the device: the core sets FAILED.
   */
  probe(device: VirtioDevice): void | Promise<void>;
  /** Called once DRIVER_OK is set: post buffers, kick, start serving requests. */
  ready?(device: VirtioDevice): void;
  /**
   * Let go of the device. The core has already reset it (the device no longer touches
   * memory), so the driver takes back every buffer in flight (`queue.detachAll()`),
   * fails their requests with an error, and frees its DMA memory. The core then destroys
   * the queues. Must not throw; may be called after a probe that failed half-way.
   * remove("unbind") always comes at unbind once probe has run since bind, even right
   * after a remove("reset") whose re-initialization failed before probe: the driver then
   * has no queues to take back but lets go of the device's handle (and closes what it
   * runs on it, e.g. an IP stack and its timers).
   */
  remove(device: VirtioDevice, reason: RemoveReason): void;
  /**
   * The device failed and its reset did not complete: it may still use the driver's buffers,
   * so remove("failed") comes only once a later reset completes. Until then the driver
   * takes no new work (refuses it at once, with an error) and keeps every buffer in flight.
   */
  quiesce?(device: VirtioDevice, error: Error): void;
  /** The device signalled a configuration change (§2.5.2); re-read what matters. */
  configChanged?(device: VirtioDevice): void;
}
