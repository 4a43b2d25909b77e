// What a virtio-net device's negotiated features and config space say (VIRTIO 1.2 §5.1.4,
// §5.1.6): the buffer layout, the link, the mtu, max_virtqueue_pairs, an announce request
// and the MAC. Read by NetDevice (net-device.ts) at attach and at config changes; every
// value is checked, an impossible one is a NetDeviceError.

import type { VirtioDevice } from "../virtio/device.js";
import { Feature } from "../virtio/features.js";
import type { BufferLayout } from "./buffer-layout.js";
import { NetDeviceError } from "./errors.js";
import { formatMac, randomMac, readConfigMac, usableMac } from "./mac.js";
import { ETH_MTU, MAX_QUEUE_PAIRS, MIN_MTU, NET_S_ANNOUNCE, NET_S_LINK_UP, NetConfig, NetFeature, netHeaderLength } from "./net-spec.js";

/** Where the header and the frame go in a buffer, from the negotiated features. */
export function bufferLayout(device: VirtioDevice): BufferLayout {
  const version1 = device.hasFeature(Feature.VERSION_1);
  // §5.1.6.6 (legacy): without VERSION_1 or ANY_LAYOUT the header has its own descriptor.
  const splitHeader = !version1 && !device.hasFeature(Feature.ANY_LAYOUT);
  return {
    headerLen: netHeaderLength(version1, device.hasFeature(NetFeature.MRG_RXBUF)),
    splitHeader,
    descriptorsPerBuffer: splitHeader && !device.hasFeature(Feature.RING_INDIRECT_DESC) ? 2 : 1,
  };
}

/** §5.1.4: status.LINK_UP, read only when VIRTIO_NET_F_STATUS was negotiated (else up). */
export function readLinkUp(device: VirtioDevice): boolean {
  if (!device.hasFeature(NetFeature.STATUS)) return true;
  const status = device.readConfig((c) => c.u16(NetConfig.STATUS));
  return (status & NET_S_LINK_UP) !== 0;
}

/** §5.1.4, §5.1.6.5.4: status.ANNOUNCE, read only when VIRTIO_NET_F_GUEST_ANNOUNCE was negotiated. */
export function readAnnounce(device: VirtioDevice): boolean {
  if (!device.hasFeature(NetFeature.GUEST_ANNOUNCE)) return false;
  const status = device.readConfig((c) => c.u16(NetConfig.STATUS));
  return (status & NET_S_ANNOUNCE) !== 0;
}

export interface NetMtu {
  /** The device's mtu, or 0 when not negotiated (or refused). */
  readonly deviceMtu: number;
  /** The largest payload sent: 1500, or the device's mtu if smaller (§5.1.6.2). */
  readonly txMtu: number;
}

/** §5.1.4: mtu (le16) when VIRTIO_NET_F_MTU was negotiated; under 68 it is refused:
 * reported (NetDeviceError) and the default used. */
export function readMtu(device: VirtioDevice, report: (error: Error) => void): NetMtu {
  if (!device.hasFeature(NetFeature.MTU)) return { deviceMtu: 0, txMtu: ETH_MTU };
  const mtu = device.readConfig((c) => c.u16(NetConfig.MTU));
  if (mtu < MIN_MTU) {
    report(new NetDeviceError(device.location, "mtu", mtu));
    return { deviceMtu: 0, txMtu: ETH_MTU };
  }
  return { deviceMtu: mtu, txMtu: Math.min(ETH_MTU, mtu) };
}

/** §5.1.4: max_virtqueue_pairs (le16) with VIRTIO_NET_F_MQ, 1 to 0x8000 (§5.1.4.1;
 * checkFeatures dropped MQ for a value outside, so one here means the config changed). */
export function readMaxPairs(device: VirtioDevice): number {
  if (!device.hasFeature(NetFeature.MQ)) return 1;
  const max = device.readConfig((c) => c.u16(NetConfig.MAX_VIRTQUEUE_PAIRS));
  if (max < 1 || max > MAX_QUEUE_PAIRS) throw new NetDeviceError(device.location, "max_virtqueue_pairs", max);
  return max;
}

/** The MAC to use: from config when VIRTIO_NET_F_MAC was negotiated (§5.1.4, §5.1.5),
 * else the `current` random one (a new random one if `current` came from the device).
 * checkFeatures (net-driver.ts) dropped MAC for an unusable address, so one here means
 * the config changed since (NetDeviceError). */
export function chooseMac(device: VirtioDevice, current: Uint8Array, currentFromDevice: boolean): { mac: Uint8Array; fromDevice: boolean } {
  if (!device.hasFeature(NetFeature.MAC)) return { mac: currentFromDevice ? randomMac() : current, fromDevice: false };
  const mac = readConfigMac(device);
  if (!usableMac(mac)) throw new NetDeviceError(device.location, "MAC address", formatMac(mac));
  return { mac, fromDevice: true };
}
