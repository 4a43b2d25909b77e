// The virtio network driver (VIRTIO 1.2 §5.1): binds to device ID 1, accepts MAC and
// STATUS when offered and nothing else of §5.1.3 (no checksum offload, no GSO, no
// mergeable buffers, no control queue), and hands out one NetDevice per device. With the
// `ip` option it also runs an IPv4 interface (drivers/net/ip) on each device.

import type { VirtioDevice } from "../virtio/device.js";
import { DeviceHandles, type DeviceHandle } from "../virtio/device-handles.js";
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
  readonly #bindings = new DeviceHandles((device) => new NetBinding(device, this.#options));

  constructor(options: NetDriverOptions = {}) {
    this.#options = options;
  }

  /** §5.1.3: MAC (read the address) and STATUS (follow the link); nothing else. */
  features(offered: bigint): bigint {
    return offered & (bit(NetFeature.MAC) | bit(NetFeature.STATUS));
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

  /** Devices with their IPv4 interfaces. */
  interfaces(): NetInterface[] {
    return this.#bindings.values().map((b) => b.iface);
  }
}

/** What the driver keeps per device: its interface (the same across re-initializations),
 * announced (IPv4 started, onDevice called) at its first DRIVER_OK only. */
class NetBinding implements DeviceHandle {
  readonly iface: NetInterface;
  readonly #onDevice: NetDriverOptions["onDevice"];
  #announced = false;

  constructor(device: VirtioDevice, options: NetDriverOptions) {
    const net = new NetDevice(device, options);
    const ip = options.ip === undefined ? null : new IpStack(net, options.ip, device.platform);
    this.iface = { device: net, ip };
    this.#onDevice = options.onDevice;
  }

  start(): void {
    this.iface.device.start();
    if (this.#announced) return;
    this.#announced = true;
    this.iface.ip?.start();
    this.#onDevice?.(this.iface.device);
  }

  detach(reason: RemoveReason): void {
    this.iface.device.detach(reason);
    if (reason === "unbind") this.iface.ip?.close();
  }
}
