// The network interface of the first virtio-net device in the shape of
// `embedded:network/interface/ethernet`: the MAC, the link state and the IPv4
// configuration (DHCP or static, net/ip), and onChanged(what) when the link goes up or
// down ("link") or the address changes ("address"). Once after the instance opens,
// onChanged tells the state reached before (link up, address there), like onWritable.
// Changes are sampled every 100 ms while an instance with onChanged is open (no hook in
// the stack is taken over, and nothing runs when nobody listens).
//   new device.network.ethernet.io({ ...device.network.ethernet, onChanged(what) { ... } })

import type { TimerId } from "../../platform/platform.js";
import { formatIpv4 } from "../../net/ip/address.js";
import type { IpStack } from "../../net/ip/ip-stack.js";
import { formatMac } from "../../drivers/net/net-device.js";
import { provider } from "./context.js";

export type EthernetChange = "link" | "address";

export interface EthernetOptions {
  /** "eth0" (default): the first virtio-net device; "eth1", ... the next ones. */
  readonly interface?: string;
  /** The link went up or down, or the IPv4 address changed. */
  readonly onChanged?: (this: Ethernet, what: EthernetChange) => void;
  /** A callback threw (recorded here, never escaping into the event loop). */
  readonly onError?: (this: Ethernet, error: Error) => void;
  /** Stored as-is on the instance (ECMA-419 `target`). */
  readonly target?: unknown;
}

/** Interval at which link and address are compared with the last values told. */
export const ETHERNET_SAMPLE_MS = 100;

export class EthernetClosedError extends Error {
  constructor(operation: string) {
    super(`cannot ${operation}: the network interface is closed`);
    this.name = "EthernetClosedError";
  }
}

function checkCallback(name: string, value: unknown): void {
  if (value !== undefined && value !== null && typeof value !== "function") throw new TypeError(`${name} must be a function`);
}

export default class Ethernet {
  readonly target: unknown;
  readonly name: string;
  #stack: IpStack | null;
  #timer: TimerId | null = null;
  #link = false;
  #address = 0;
  readonly #onChanged: EthernetOptions["onChanged"];
  readonly #onError: EthernetOptions["onError"];

  constructor(options: EthernetOptions = {}) {
    if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
    const name = options.interface ?? "eth0";
    const match = /^eth(\d+)$/.exec(String(name));
    if (match === null) throw new RangeError(`interface "${String(name)}" must be "eth0", "eth1", ...`);
    checkCallback("onChanged", options.onChanged);
    checkCallback("onError", options.onError);
    const { platform, drivers } = provider("Ethernet");
    const stack = drivers.net.interfaces()[Number(match[1])]?.stack ?? null;
    if (stack === null) throw new RangeError(`no network interface ${name} (virtio-net devices: ${drivers.net.interfaces().length})`);
    this.name = name;
    this.target = options.target;
    this.#stack = stack;
    this.#onChanged = options.onChanged;
    this.#onError = options.onError;
    if (this.#onChanged === undefined || this.#onChanged === null) return;
    this.#timer = platform.timers.repeat(() => this.#sample(), ETHERNET_SAMPLE_MS);
    void Promise.resolve().then(() => this.#sample());
  }

  /** The station address, "52:54:00:12:34:56". */
  get mac(): string {
    return formatMac(this.#open("mac").link.mac);
  }

  /** "up" or "down". */
  get link(): "up" | "down" {
    return this.#open("link").link.linkUp ? "up" : "down";
  }

  /** The IPv4 address ("10.0.2.15"), or undefined while there is none (DHCP running). */
  get address(): string | undefined {
    const stack = this.#open("address");
    return stack.configured ? formatIpv4(stack.address) : undefined;
  }

  get netmask(): string | undefined {
    const stack = this.#open("netmask");
    return stack.configured ? formatIpv4(stack.netmask) : undefined;
  }

  /** The default route, or undefined. */
  get gateway(): string | undefined {
    const stack = this.#open("gateway");
    return stack.configured && stack.gateway !== 0 ? formatIpv4(stack.gateway) : undefined;
  }

  /** "static", or the DHCP client's state ("bound" once it has a lease). */
  get mode(): string {
    return this.#open("mode").mode;
  }

  /** Stops the change events; safe twice. Every getter throws after it. */
  close(): void {
    if (this.#stack === null) return;
    this.#stack = null;
    if (this.#timer !== null) provider("Ethernet").platform.timers.clear(this.#timer);
    this.#timer = null;
  }

  #open(operation: string): IpStack {
    if (this.#stack === null) throw new EthernetClosedError(`read ${operation}`);
    return this.#stack;
  }

  #sample(): void {
    const stack = this.#stack;
    if (stack === null) return;
    const link = stack.link.linkUp;
    const address = stack.configured ? stack.address : 0;
    if (link !== this.#link) {
      this.#link = link;
      this.#tell("link");
    }
    if (address !== this.#address && this.#stack !== null) {
      this.#address = address;
      this.#tell("address");
    }
  }

  #tell(what: EthernetChange): void {
    try {
      this.#onChanged?.call(this, what);
    } catch (error) {
      try {
        this.#onError?.call(this, error instanceof Error ? error : new Error(String(error)));
      } catch {
        // nowhere left to report
      }
    }
  }
}
