// Names of negotiated feature bits for `devices`: the transport's bits (24-40) from the
// core's table, the device type's bits (0-23 and 50-63, VIRTIO 1.2 §6) from the table each
// driver exports next to its spec constants. A bit nobody names prints as "bitN".

import { BLK_FEATURE_NAMES } from "../../drivers/blk/blk-spec.js";
import { CONSOLE_FEATURE_NAMES } from "../../drivers/console/constants.js";
import { INPUT_FEATURE_NAMES } from "../../drivers/input/constants.js";
import { NET_FEATURE_NAMES } from "../../drivers/net/net-spec.js";
import { RNG_FEATURE_NAMES } from "../../drivers/rng/rng-spec.js";
import { DeviceId } from "../../drivers/virtio/device-types.js";
import { Feature, hasFeature } from "../../drivers/virtio/features.js";

type NameTable = Readonly<Record<number, string>>;

const DEVICE_TABLES: Readonly<Record<number, NameTable>> = {
  [DeviceId.NET]: NET_FEATURE_NAMES,
  [DeviceId.BLOCK]: BLK_FEATURE_NAMES,
  [DeviceId.CONSOLE]: CONSOLE_FEATURE_NAMES,
  [DeviceId.ENTROPY]: RNG_FEATURE_NAMES,
  [DeviceId.INPUT]: INPUT_FEATURE_NAMES,
};

const TRANSPORT_NAMES: NameTable = Object.fromEntries(Object.entries(Feature).map(([name, n]) => [n, name]));

/** §6: bits 0-23 and 50-127 belong to the device type; 24-49 to the transport and queues. */
export function isDeviceTypeBit(n: number): boolean {
  return n < 24 || n >= 50;
}

/** The feature-name table of a device type (empty when no driver here names its bits). */
export function deviceFeatureTable(deviceId: number): NameTable {
  return DEVICE_TABLES[deviceId] ?? {};
}

/** Names of the bits set in `features` (64 bits), lowest first. */
export function featureNamesFor(deviceId: number, features: bigint): string[] {
  const device = deviceFeatureTable(deviceId);
  const names: string[] = [];
  for (let n = 0; n < 64; n++) {
    if (!hasFeature(features, n)) continue;
    names.push((isDeviceTypeBit(n) ? device[n] : TRANSPORT_NAMES[n]) ?? `bit${n}`);
  }
  return names;
}
