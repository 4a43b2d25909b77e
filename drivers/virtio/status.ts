// The device status field (VIRTIO 1.2 §2.1): bits the driver sets as it walks the
// initialization sequence of §3.1.1, plus the two the device uses to report trouble.

export const Status = {
  /** The guest OS has found the device and recognised it as a virtio device. */
  ACKNOWLEDGE: 1,
  /** The guest OS knows how to drive the device. */
  DRIVER: 2,
  /** The driver is set up and ready to drive the device. */
  DRIVER_OK: 4,
  /** The driver has acknowledged the features it understands; negotiation is over. */
  FEATURES_OK: 8,
  /** Set by the device: it hit an error it cannot recover from without a reset. */
  DEVICE_NEEDS_RESET: 64,
  /** Set by the driver: something went wrong and it gave up on the device. */
  FAILED: 128,
} as const;

/** The steps a device goes through, as the bus reports them (DeviceInfo.status). */
export type StatusStep = "RESET" | "ACKNOWLEDGE" | "DRIVER" | "FEATURES_OK" | "DRIVER_OK" | "FAILED" | "NEEDS_RESET";

/** Names of the bits set in a status value, lowest bit first, e.g. "ACKNOWLEDGE|DRIVER". */
export function statusNames(status: number): string {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(Status)) {
    if ((status & bit) !== 0) names.push(name);
  }
  const unknown = status & ~0xcf;
  if (unknown !== 0) names.push("0x" + unknown.toString(16));
  return names.length === 0 ? "RESET" : names.join("|");
}

/** The furthest step a status value shows: trouble first, then the highest step reached. */
export function statusStep(status: number): StatusStep {
  if (status & Status.FAILED) return "FAILED";
  if (status & Status.DEVICE_NEEDS_RESET) return "NEEDS_RESET";
  if (status & Status.DRIVER_OK) return "DRIVER_OK";
  if (status & Status.FEATURES_OK) return "FEATURES_OK";
  if (status & Status.DRIVER) return "DRIVER";
  if (status & Status.ACKNOWLEDGE) return "ACKNOWLEDGE";
  return "RESET";
}
