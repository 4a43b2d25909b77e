// The board start-up's bus: a VirtioBus that scans every transport kind this firmware
// carries. The core (drivers/virtio) knows no transport; this file is where they meet.

import type { Platform } from "../platform/platform.js";
import { VirtioBus } from "../drivers/virtio/bus.js";
import type { VirtioDeviceOptions } from "../drivers/virtio/device.js";
import type { TransportProvider } from "../drivers/virtio/transport-provider.js";
import { mmioTransports } from "../transports/mmio/provider.js";
import { pciTransports } from "../transports/pci/provider.js";

/** Every transport provider, in scan order (mmio slots first). */
export const standardTransports: readonly TransportProvider[] = [mmioTransports, pciTransports];

/** A bus over every standard transport. */
export function createBus(platform: Platform, deviceOptions: VirtioDeviceOptions = {}): VirtioBus {
  return new VirtioBus(platform, deviceOptions, standardTransports);
}
