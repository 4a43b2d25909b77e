// What a driver may write to Status and DriverFeatures on a virtio-mmio device, as pure
// checks that record each broken rule: status bits only set, never cleared but by a reset
// (§2.1.2), in the order of §3.1.1; driver features only before FEATURES_OK and only
// from what the device offered (§2.2.1, §3.1.1 step 4).

import { STATUS } from "./virtio-constants.js";

/** Records one broken rule (the register file's violation log). */
export type RuleReporter = (rule: string, message: string) => void;

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** The bits a Status write sets (§2.1.2): clearing a bit and setting DEVICE_NEEDS_RESET
 * are recorded; the latter, a device-only bit, is left out. */
export function statusBitsSet(old: number, value: number, violation: RuleReporter): number {
  const cleared = old & ~value;
  if (cleared) violation("status-bit-cleared", `Status ${hex(value)} clears bit(s) ${hex(cleared)}; only a reset clears status bits (§2.1.2)`);
  let set = value & ~old;
  if (set & STATUS.DEVICE_NEEDS_RESET) {
    violation("status-device-bit", `the driver set DEVICE_NEEDS_RESET, which only the device sets (§2.1.2)`);
    set &= ~STATUS.DEVICE_NEEDS_RESET;
  }
  return set;
}

/** §3.1.1: each bit newly `set` needs the steps before it in `now`; FEATURES_OK never
 * after DRIVER_OK (`old`, the status before this write). Legacy has no FEATURES_OK step. */
export function checkStatusOrder(version: 1 | 2, set: number, now: number, old: number, violation: RuleReporter): void {
  const need = (bit: number, name: string, required: number, names: string): void => {
    if (set & bit && (now & required) !== required) {
      violation("status-order", `${name} set without ${names} (§3.1.1)`);
    }
  };
  need(STATUS.DRIVER, "DRIVER", STATUS.ACKNOWLEDGE, "ACKNOWLEDGE");
  need(STATUS.FEATURES_OK, "FEATURES_OK", STATUS.ACKNOWLEDGE | STATUS.DRIVER, "ACKNOWLEDGE and DRIVER");
  need(STATUS.DRIVER_OK, "DRIVER_OK", STATUS.ACKNOWLEDGE | STATUS.DRIVER |
    (version === 2 ? STATUS.FEATURES_OK : 0), version === 2 ? "ACKNOWLEDGE, DRIVER and FEATURES_OK" : "ACKNOWLEDGE and DRIVER");
  if (set & STATUS.FEATURES_OK && old & STATUS.DRIVER_OK) {
    violation("status-order", "FEATURES_OK set after DRIVER_OK (§3.1.1)");
  }
}

/**
 * A DriverFeatures write of `value` to word `sel` (DriverFeaturesSel): the driver features
 * it leaves, `current` unchanged when the write is refused (after FEATURES_OK, or a word
 * past 1, where nothing is offered). Bits not offered are recorded but kept: the device
 * then refuses FEATURES_OK.
 */
export function mergeDriverFeatures(
  current: bigint, sel: number, value: number, status: number, offered: bigint, violation: RuleReporter,
): bigint {
  if (status & STATUS.FEATURES_OK) {
    violation("features-after-features-ok", `DriverFeatures written (${hex(value)}, word ${sel}) after FEATURES_OK (§3.1.1)`);
    return current;
  }
  if (!(status & STATUS.DRIVER)) {
    violation("status-order", `DriverFeatures written before the DRIVER status bit (§3.1.1 step 4)`);
  }
  if (sel > 1) {
    if (value !== 0) violation("features-not-offered", `driver features word ${sel} = ${hex(value)}: the device offers no bits there`);
    return current;
  }
  const word = BigInt(value >>> 0) << BigInt(32 * sel);
  const offeredWord = offered & (0xffff_ffffn << BigInt(32 * sel));
  if (word & ~offeredWord) {
    violation("features-not-offered", `driver features ${hex(word)} include bits the device did not offer: ${hex(word & ~offeredWord)} (§2.2.1)`);
  }
  return (current & ~(0xffff_ffffn << BigInt(32 * sel))) | word;
}
