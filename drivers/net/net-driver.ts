// The virtio network driver (VIRTIO 1.2 §5.1): binds to device ID 1, accepts MAC and
// STATUS when offered and nothing else of §5.1.3 (no checksum offload, no GSO, no
// mergeable buffers, no control queue), and hands out one NetDevice per device. With the
// `ip` option it also runs an IPv4 interface (drivers/net/ip) on each device.

import type { VirtioDevice } from "../virtio/device.js";
import { DeviceId } from "../virtio/device-types.js";
import type { RemoveReason, VirtioDriver } from "../virtio/driver.js";
import { bit } from "../virtio/features.js";
import { IpStack, type IpStackOptions } from "./ip/ip-stack.js";
import { NetDevice, type NetOptions } from "./net-device.js";
import { NetFeature } from "./net-spec.js";

export interface NetDriverOptions extends Omit<NetOptions, "onReadable" | "onWritable" | "onLinkChange" | "onError"> {
  /** Run an IPv4 stack on each device (DHCP unless a static address is given). */
  readonly ip?: IpStackOptions;
  /** Called once per new NetDevice, when it first reaches DRIVER_OK. */
  readonly onDevice?: (device: NetDevice) => void;
}

/** A network device and its IPv4 interface, if the driver runs one. */
export interface NetInterface {
  readonly device: NetDevice;
  readonly ip: IpStack | null;
}

export class NetDriver implements VirtioDriver {
  readonly name = "virtio-net";
  readonly deviceIds = [DeviceId.NET];
  readonly #options: NetDriverOptions;
  readonly #devices = new Map<VirtioDevice, NetInterface>();
  readonly #announced = new Set<NetDevice>();

  constructor(options: NetDriverOptions = {}) {
    this.#options = options;
  }

  /** §5.1.3: MAC (read the address) and STATUS (follow the link); nothing else. */
  features(offered: bigint): bigint {
    return offered & (bit(NetFeature.MAC) | bit(NetFeature.STATUS));
  }

  probe(device: VirtioDevice): void {
    let entry = this.#devices.get(device);
    if (entry === undefined) {
      const net = new NetDevice(device, this.#options);
      const ip = this.#options.ip === undefined ? null : new IpStack(net, this.#options.ip, device.platform);
      entry = { device: net, ip };
      this.#devices.set(device, entry);
    }
    entry.device.attach();
  }

  ready(device: VirtioDevice): void {
    const entry = this.#devices.get(device);
    if (entry === undefined) return;
    entry.device.start();
    if (!this.#announced.has(entry.device)) {
      this.#announced.add(entry.device);
      entry.ip?.start();
      this.#options.onDevice?.(entry.device);
    }
  }

  remove(device: VirtioDevice, reason: RemoveReason): void {
    const entry = this.#devices.get(device);
    if (entry === undefined) return;
    entry.device.detach(reason);
    if (reason === "unbind") {
      entry.ip?.close();
      this.#devices.delete(device);
      this.#announced.delete(entry.device);
    }
  }

  configChanged(device: VirtioDevice): void {
    this.#devices.get(device)?.device.configChanged();
  }

  /** Network devices bound to this driver, in bind order. */
  devices(): NetDevice[] {
    return [...this.#devices.values()].map((e) => e.device);
  }

  /** Devices with their IPv4 interfaces. */
  interfaces(): NetInterface[] {
    return [...this.#devices.values()];
  }
}
