// The provider's state: the platform and the drivers bootProvider() (boot.ts) started.
// The provider's classes (Serial, UDP, Ethernet, flash, ...) find their ports here when
// they are constructed; before the boot, or after shutdown, they throw ProviderStateError.

import type { Platform } from "../../platform/platform.js";
import type { VirtioBus } from "../../drivers/virtio/bus.js";
import type { BlkDriver } from "../../drivers/blk/blk-driver.js";
import type { ConsoleDriver } from "../../drivers/console/console-driver.js";
import type { InputDriver } from "../../drivers/input/input-driver.js";
import type { NetDriver } from "../../drivers/net/net-driver.js";
import type { RngDriver } from "../../drivers/rng/rng-driver.js";
import type { IpStack } from "../../net/ip/ip-stack.js";
import type { UartPort } from "./uart-port.js";

export interface ProviderDrivers {
  readonly blk: BlkDriver;
  readonly net: NetDriver<IpStack>;
  readonly console: ConsoleDriver;
  readonly input: InputDriver;
  readonly rng: RngDriver;
}

export interface ProviderContext {
  readonly platform: Platform;
  readonly bus: VirtioBus;
  readonly drivers: ProviderDrivers;
  readonly uart: UartPort;
}

/** A provider class was used before bootProvider() finished (or after shutdown). */
export class ProviderStateError extends Error {
  constructor(what: string) {
    super(`${what}: the provider is not booted (the firmware's entry boots it before the app runs)`);
    this.name = "ProviderStateError";
  }
}

let current: ProviderContext | null = null;

/** The booted provider; throws ProviderStateError before the boot. */
export function provider(what: string): ProviderContext {
  if (current === null) throw new ProviderStateError(what);
  return current;
}

/** Set by bootProvider(); null again at shutdown. */
export function setProvider(context: ProviderContext | null): void {
  current = context;
}
