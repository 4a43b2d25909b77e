// Which virtio-mmio registers exist in which version and in which direction
// (VIRTIO 1.2 §4.2.2; legacy §4.2.4), and the check every control register access
// goes through: 32-bit, existing in this version, right direction (§4.2.2.2).

import type { MmioWidth } from "./mmio-bus.js";
import { REG } from "./virtio-constants.js";

type Mode = "r" | "w" | "rw";

const COMMON: Record<number, Mode> = {
  [REG.MagicValue]: "r", [REG.Version]: "r", [REG.DeviceID]: "r", [REG.VendorID]: "r",
  [REG.DeviceFeatures]: "r", [REG.DeviceFeaturesSel]: "w", [REG.DriverFeatures]: "w",
  [REG.DriverFeaturesSel]: "w", [REG.QueueSel]: "w", [REG.QueueNumMax]: "r", [REG.QueueNum]: "w",
  [REG.QueueNotify]: "w", [REG.InterruptStatus]: "r", [REG.InterruptACK]: "w", [REG.Status]: "rw",
};
const LEGACY_ONLY: Record<number, Mode> = {
  [REG.GuestPageSize]: "w", [REG.QueueAlign]: "w", [REG.QueuePFN]: "rw",
};
const MODERN_ONLY: Record<number, Mode> = {
  [REG.QueueReady]: "rw", [REG.QueueDescLow]: "w", [REG.QueueDescHigh]: "w",
  [REG.QueueDriverLow]: "w", [REG.QueueDriverHigh]: "w", [REG.QueueDeviceLow]: "w",
  [REG.QueueDeviceHigh]: "w", [REG.SHMSel]: "w", [REG.SHMLenLow]: "r", [REG.SHMLenHigh]: "r",
  [REG.SHMBaseLow]: "r", [REG.SHMBaseHigh]: "r", [REG.ConfigGeneration]: "r",
};

/** What is wrong with an access, as a violation; null if it is a proper access. */
export interface AccessProblem {
  readonly rule: string;
  readonly message: string;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Checks one control register access (offsets below the config space). */
export function checkRegisterAccess(version: 1 | 2, offset: number, width: MmioWidth, dir: "read" | "write"): AccessProblem | null {
  if (width !== 4) {
    return { rule: "register-width", message: `${width * 8}-bit ${dir} of control register ${hex(offset)}: registers take 32-bit accesses only (§4.2.2.2)` };
  }
  const mode = COMMON[offset] ?? (version === 1 ? LEGACY_ONLY : MODERN_ONLY)[offset];
  if (!mode) {
    return (version === 1 ? MODERN_ONLY : LEGACY_ONLY)[offset]
      ? { rule: "register-not-in-version", message: `${dir} of register ${hex(offset)}, which a version ${version} device does not have` }
      : { rule: "register-unknown", message: `${dir} of ${hex(offset)}, which is no register (§4.2.2)` };
  }
  if (dir === "read" && mode === "w") return { rule: "register-write-only", message: `read of write-only register ${hex(offset)}` };
  if (dir === "write" && mode === "r") return { rule: "register-read-only", message: `write of read-only register ${hex(offset)}` };
  return null;
}
