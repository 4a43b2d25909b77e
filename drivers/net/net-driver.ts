// The virtio network driver (VIRTIO 1.2 §5.1): binds to device ID 1, accepts MAC, STATUS,
// MTU, MRG_RXBUF (VERSION_1), the control queue with CTRL_RX, CTRL_MAC_ADDR,
// GUEST_ANNOUNCE and MQ when offered, no checksum offload or GSO, and hands out one
// NetDevice per device. With the
// `stack` option it also runs a protocol stack (a NicClient, such as net/ip's IpStack) on
// each device; the driver knows nothing of what that stack does.

import type { VirtioDevice } from "../virtio/device.js";
import { DeviceHandles, type DeviceHandle } from "../virtio/device-handles.js";
import { DeviceId } from "../virtio/device-types.js";
import type { RemoveReason, VirtioDriver } from "../virtio/driver.js";
import { bit } from "../virtio/features.js";
import type { Platform } from "../../platform/platform.js";
import type { NicClient } from "../../net/nic.js";
import { NetDeviceError } from "./errors.js";
import { formatMac, readConfigMac, usableMac } from "./mac.js";
import { NetDevice } from "./net-device.js";
import type { NetOptions } from "./net-types.js";
import { ETH_MTU, MAX_QUEUE_PAIRS, NetConfig, NetFeature } from "./net-spec.js";

export interface NetDriverOptions<S extends NicClient = NicClient> extends Omit<NetOptions, "onReadable" | "onWritable" | "onLinkChange" | "onError"> {
  /** Makes the stack to run on each device (e.g. `(nic, p) => new IpStack(nic, {}, p)`);
   * started at the device's first DRIVER_OK, closed when the device is unbound. */
  readonly stack?: (nic: NetDevice, platform: Platform) => S;
  /** Called once per new NetDevice, when it first reaches DRIVER_OK. */
  readonly onDevice?: (device: NetDevice) => void;
}

/** A network device and the stack on it, if the driver runs one. */
export interface NetInterface<S extends NicClient = NicClient> {
  readonly device: NetDevice;
  readonly stack: S | null;
}

export class NetDriver<S extends NicClient = NicClient> implements VirtioDriver {
  readonly name = "virtio-net";
  readonly deviceIds = [DeviceId.NET];
  readonly #options: NetDriverOptions<S>;
  readonly #bindings = new DeviceHandles((device) => new NetBinding<S>(device, this.#options));

  constructor(options: NetDriverOptions<S> = {}) {
    this.#options = options;
  }

  /** §5.1.3: MAC (read the address), STATUS (follow the link), MTU (honour it), on a
   * VERSION_1 device MRG_RXBUF (frames over several receive buffers), and with CTRL_VQ
   * its commands and MQ (queue pairs); no offloads. */
  features(offered: bigint): bigint {
    const modern = (offered & (1n << 32n)) !== 0n;
    let wanted = bit(NetFeature.MAC) | bit(NetFeature.STATUS) | bit(NetFeature.MTU) | (modern ? bit(NetFeature.MRG_RXBUF) : 0n);
    // §5.1.3.1: CTRL_RX, CTRL_MAC_ADDR and GUEST_ANNOUNCE need CTRL_VQ (GUEST_ANNOUNCE also STATUS)
    if ((offered & bit(NetFeature.CTRL_VQ)) !== 0n) {
      wanted |= bit(NetFeature.CTRL_VQ) | bit(NetFeature.CTRL_RX) | bit(NetFeature.CTRL_MAC_ADDR);
      if ((offered & bit(NetFeature.STATUS)) !== 0n) wanted |= bit(NetFeature.GUEST_ANNOUNCE);
      wanted |= bit(NetFeature.MQ); // §5.1.3.1: MQ needs CTRL_VQ
    }
    return offered & wanted;
  }

  /** §5.1.5: with MAC negotiated the device's address must be used, so a device whose
   * address is multicast or zero does not get MAC (reported; a random one is used). */
  checkFeatures(device: VirtioDevice, accepted: bigint): bigint {
    // §5.1.5: with MTU, receive buffers must hold a frame of mtu; without mergeable
    // buffers ours hold 1514 bytes, so a larger mtu is not taken.
    if ((accepted & bit(NetFeature.MTU)) !== 0n && (accepted & bit(NetFeature.MRG_RXBUF)) === 0n && device.readConfig((c) => c.u16(NetConfig.MTU)) > ETH_MTU) {
      accepted &= ~bit(NetFeature.MTU);
    }
    // §5.1.4.1: max_virtqueue_pairs is 1 to 0x8000; a device outside that does not get MQ
    if ((accepted & bit(NetFeature.MQ)) !== 0n) {
      const max = device.readConfig((c) => c.u16(NetConfig.MAX_VIRTQUEUE_PAIRS));
      if (max < 1 || max > MAX_QUEUE_PAIRS) {
        device.reportError(new NetDeviceError(device.location, "max_virtqueue_pairs", max));
        accepted &= ~bit(NetFeature.MQ);
      }
    }
    if ((accepted & bit(NetFeature.MAC)) === 0n) return accepted;
    const mac = readConfigMac(device);
    if (usableMac(mac)) return accepted;
    device.reportError(new NetDeviceError(device.location, "MAC address", formatMac(mac)));
    return accepted & ~bit(NetFeature.MAC);
  }

  probe(device: VirtioDevice): void {
    this.#bindings.obtain(device).iface.device.attach();
  }

  ready(device: VirtioDevice): void {
    this.#bindings.start(device);
  }

  remove(device: VirtioDevice, reason: RemoveReason): void {
    this.#bindings.detach(device, reason);
  }

  configChanged(device: VirtioDevice): void {
    this.#bindings.get(device)?.iface.device.configChanged();
  }

  /** Network devices bound to this driver, in bind order. */
  devices(): NetDevice[] {
    return this.#bindings.values().map((b) => b.iface.device);
  }

  /** Devices with their stacks. */
  interfaces(): NetInterface<S>[] {
    return this.#bindings.values().map((b) => b.iface);
  }
}

/** What the driver keeps per device: its interface (the same across re-initializations),
 * announced (stack started, onDevice called) at its first DRIVER_OK only. */
class NetBinding<S extends NicClient> implements DeviceHandle {
  readonly iface: NetInterface<S>;
  readonly #onDevice: NetDriverOptions<S>["onDevice"];
  #announced = false;

  constructor(device: VirtioDevice, options: NetDriverOptions<S>) {
    const net = new NetDevice(device, options);
    const stack = options.stack === undefined ? null : options.stack(net, device.platform);
    this.iface = { device: net, stack };
    this.#onDevice = options.onDevice;
  }

  start(): void {
    this.iface.device.start();
    if (this.#announced) return;
    this.#announced = true;
    this.iface.stack?.start();
    this.#onDevice?.(this.iface.device);
  }

  detach(reason: RemoveReason): void {
    this.iface.device.detach(reason);
    if (reason === "unbind") this.iface.stack?.close();
  }
}
