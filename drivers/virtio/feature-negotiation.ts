// Which features the core accepts for a driver (VIRTIO 1.2 §2.2, §3.1.1 step 4): the
// driver's device-type bits plus the transport bits the core implements, all within
// what the device offered (§2.2.1); VERSION_1 required of a modern device and never
// accepted on a legacy transport (§6.1), 32 bits only on legacy (§4.2.4).

import type { VirtioDevice } from "./device.js";
import type { VirtioDriver } from "./driver.js";
import { MissingFeatureError } from "./errors.js";
import { CORE_HANDLED_FEATURES, Feature, TRANSPORT_FEATURES_MASK, bit, hasFeature } from "./features.js";

/** The accepted feature set for `driver` on `device`, from the `offered` bits. */
export function negotiateFeatures(device: VirtioDevice, driver: VirtioDriver, offered: bigint): bigint {
  const modern = device.transport.version !== 1;
  if (modern && !hasFeature(offered, Feature.VERSION_1)) {
    // §6.1: a driver MUST accept VERSION_1 if offered; a modern device MUST offer it.
    throw new MissingFeatureError(device.location, "VERSION_1", offered);
  }
  const fromDriver = driver.features(offered) & offered & ~TRANSPORT_FEATURES_MASK;
  let fromCore = offered & CORE_HANDLED_FEATURES;
  if (!modern) fromCore &= ~bit(Feature.VERSION_1); // never on a legacy transport
  let accepted = fromDriver | fromCore;
  if (driver.checkFeatures !== undefined) accepted &= driver.checkFeatures(device, accepted);
  return modern ? accepted : accepted & 0xffffffffn; // legacy: 32 feature bits (§4.2.4)
}
