// The virtio vendor capabilities of a PCI function (VIRTIO 1.2 §4.1.4): struct
// virtio_pci_cap { cap_vndr 0x09, cap_next, cap_len, cfg_type, bar, id, padding[2],
// offset, length } (+ notify_off_multiplier for the notify capability). §4.1.4.1: the
// driver uses the first capability of each type it understands, ignores unknown types
// and BARs, and each structure must lie inside a memory BAR that was assigned.

import { CapId } from "../../pci/config-regs.js";
import type { Ecam } from "../../pci/ecam.js";
import type { PciBar, PciFunction } from "../../pci/pci-function.js";
import { PciCapabilityError } from "./errors.js";

export const CfgType = { Common: 1, Notify: 2, Isr: 3, Device: 4, PciCfg: 5 } as const;

/** One structure: where its bytes are, as a CPU address, and how many. */
export interface VirtioArea {
  readonly bar: number;
  readonly offset: number;
  readonly length: number;
  /** CPU address of the first byte. */
  readonly address: number;
}

export interface VirtioCaps {
  readonly common: VirtioArea;
  readonly notify: VirtioArea;
  readonly notifyMultiplier: number;
  readonly isr: VirtioArea;
  /** Absent for device types with no configuration. */
  readonly device: VirtioArea | null;
}

/** The common-config structure of §4.1.4.3 is 0x38 bytes (up to queue_notify_data). */
export const COMMON_MIN_LENGTH = 0x38;

/** Reads the vendor capabilities; null if there is no common configuration (a legacy-only device). */
export function readVirtioCaps(ecam: Ecam, fn: PciFunction, location: string): VirtioCaps | null {
  const found = new Map<number, VirtioArea>();
  let multiplier = -1;
  for (const cap of fn.capabilities) {
    if (cap.id !== CapId.Vendor) continue;
    const length = ecam.read8(fn, cap.offset + 2);
    if (length < 16) throw new PciCapabilityError(location, `vendor capability at 0x${cap.offset.toString(16)} has cap_len ${length} < 16`);
    const type = ecam.read8(fn, cap.offset + 3);
    const barIndex = ecam.read8(fn, cap.offset + 4);
    if (type < CfgType.Common || type > CfgType.Device || found.has(type)) continue; // PCI-cfg and unknown: not used
    if (barIndex > 5) continue; // §4.1.4.1: reserved BAR values are ignored
    const offset = ecam.read32(fn, cap.offset + 8);
    const areaLength = ecam.read32(fn, cap.offset + 12);
    const bar = fn.bars.find((b) => b.index === barIndex);
    if (!bar || bar.kind === "io") throw new PciCapabilityError(location, `capability type ${type} names BAR${barIndex}, which is not a memory BAR`);
    if (bar.cpuAddress < 0) throw new PciCapabilityError(location, `capability type ${type}: BAR${barIndex} could not be assigned`);
    checkInside(location, type, bar, offset, areaLength);
    if (type === CfgType.Notify) {
      if (length < 20) throw new PciCapabilityError(location, `notify capability has cap_len ${length} < 20`);
      multiplier = ecam.read32(fn, cap.offset + 16);
    }
    found.set(type, { bar: barIndex, offset, length: areaLength, address: bar.cpuAddress + offset });
  }
  const common = found.get(CfgType.Common);
  if (!common) return null;
  const notify = found.get(CfgType.Notify);
  const isr = found.get(CfgType.Isr);
  if (!notify || !isr) throw new PciCapabilityError(location, `the ${!notify ? "notify" : "ISR"} capability is missing (§4.1.4)`);
  if (common.length < COMMON_MIN_LENGTH) throw new PciCapabilityError(location, `common configuration is ${common.length} bytes, less than ${COMMON_MIN_LENGTH}`);
  if (isr.length < 1) throw new PciCapabilityError(location, "ISR area is empty");
  // §4.1.4.4: the multiplier is a power of two, or 0 (every queue notifies at one address).
  if (multiplier !== 0 && (multiplier & (multiplier - 1)) !== 0) throw new PciCapabilityError(location, `notify_off_multiplier ${multiplier} is not a power of two (§4.1.4.4)`);
  return { common, notify, notifyMultiplier: multiplier, isr, device: found.get(CfgType.Device) ?? null };
}

function checkInside(location: string, type: number, bar: PciBar, offset: number, length: number): void {
  if (offset + length > bar.size || offset < 0) {
    throw new PciCapabilityError(location, `capability type ${type} [0x${offset.toString(16)}, +${length}) runs past BAR${bar.index} (${bar.size} bytes)`);
  }
}
