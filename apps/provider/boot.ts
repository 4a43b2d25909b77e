// Boots the provider: the virtio bus with the five drivers (blk, net with an IPv4 stack,
// console, input, rng), a scan, and the tables of builtin.ts; then the application.
// The generated entry of an app build (tools/lib/app-build.mjs) calls bootApp(); tests
// call bootProvider() on the host model. Every failure is printed on the UART: a driver
// or a scan that fails leaves the provider up with what it found.

import type { Platform } from "../../platform/platform.js";
import type { VirtioBus } from "../../drivers/virtio/bus.js";
import { createBus } from "../bus.js";
import { BlkDriver } from "../../drivers/blk/blk-driver.js";
import { ConsoleDriver } from "../../drivers/console/console-driver.js";
import { InputDriver } from "../../drivers/input/input-driver.js";
import { NetDriver } from "../../drivers/net/net-driver.js";
import { RngDriver } from "../../drivers/rng/rng-driver.js";
import { IpStack, type IpStackOptions } from "../../net/ip/ip-stack.js";
import { errorReport } from "../shell/inspect.js";
import { withTimeout } from "../start.js";
import { setProvider, type ProviderContext, type ProviderDrivers } from "./context.js";
import { UartPort } from "./uart-port.js";

export interface BootOptions {
  readonly platform: Platform;
  /** Default: apps/bus.ts createBus (every standard transport). */
  readonly createBus?: (platform: Platform) => VirtioBus;
  /** The IPv4 configuration of each network interface (default: DHCP). */
  readonly network?: IpStackOptions;
  /** Longest wait for the scan (default 10 000 ms); the app starts anyway after it. */
  readonly scanTimeoutMs?: number;
}

function say(platform: Platform, text: string): void {
  platform.console.write(`${text.replace(/\r?\n/g, "\r\n")}\r\n`);
}

/** Registers the drivers, scans, and makes the provider's tables usable. Never rejects. */
export async function bootProvider(options: BootOptions): Promise<ProviderContext> {
  const { platform } = options;
  const bus = (options.createBus ?? createBus)(platform);
  const network = options.network ?? {};
  const drivers: ProviderDrivers = {
    blk: new BlkDriver(),
    net: new NetDriver({ stack: (nic, p) => new IpStack(nic, network, p) }),
    console: new ConsoleDriver(),
    input: new InputDriver(),
    rng: new RngDriver(),
  };
  for (const [name, driver] of Object.entries(drivers)) {
    try {
      await bus.register(driver);
    } catch (error) {
      say(platform, `driver ${name} not loaded: ${errorReport(error)}`);
    }
  }
  try {
    const done = await withTimeout(platform, bus.scan(), options.scanTimeoutMs ?? 10_000);
    if (!done) say(platform, "virtio scan still running: starting the app meanwhile");
  } catch (error) {
    say(platform, `virtio scan failed: ${errorReport(error)}`);
  }
  const context: ProviderContext = { platform, bus, drivers, uart: new UartPort(platform) };
  setProvider(context);
  return context;
}

/** Resets every device and forgets the provider (its classes throw after it). */
export async function shutdownProvider(context: ProviderContext): Promise<void> {
  setProvider(null);
  await context.bus.shutdown();
}

/**
 * The firmware entry of an app: boots the provider, lets `withContext` start extras (the
 * shell, when the manifest includes it), then loads the app's main module (`load`, a
 * dynamic import, so its top-level code runs with the provider ready). An exception of
 * the app's top level is printed with its stack.
 */
export function bootApp(options: BootOptions, load: () => Promise<unknown>, withContext?: (context: ProviderContext) => void): void {
  installTrace(options.platform);
  void bootProvider(options)
    .then((context) => {
      withContext?.(context);
      return load();
    })
    .catch((error: unknown) => say(options.platform, `app failed: ${errorReport(error)}`));
}

/** Moddable's `trace(...values)`: the values as text on the UART, no newline added. */
function installTrace(platform: Platform): void {
  const g = globalThis as { trace?: unknown };
  if (g.trace !== undefined) return;
  g.trace = (...values: unknown[]) => platform.console.write(values.map(String).join("").replace(/\r?\n/g, "\r\n"));
}
