// Starting the app on any platform: make the bus, register the drivers (apps/drivers.ts),
// scan, print a banner and start the shell. Robust by design: a driver that fails to load,
// a scan that throws or hangs, each prints an error and the shell still starts.
// apps/main.ts calls this on XS; tests call it on fakes and the host model.

import type { Platform } from "../platform/platform.js";
import type { Command, ShellBus } from "./shell/command.js";
import { errorReport } from "./shell/inspect.js";
import { Shell } from "./shell/shell.js";

/** The bus as the app drives it (drivers/virtio/bus.ts's VirtioBus). */
export interface AppBus<D> extends ShellBus {
  register(driver: D): void | Promise<void>;
  scan(): Promise<void>;
}

/** What one driver module brings: the driver for the bus, and its shell commands. */
export interface DriverParts<D> {
  readonly driver: D;
  readonly commands?: readonly Command[];
  /** Globals for `js` (e.g. the driver's device list). */
  readonly globals?: Readonly<Record<string, unknown>>;
}

/** One entry of apps/drivers.ts. `create` is called once per app start. */
export interface DriverModule<D> {
  readonly name: string;
  create(): DriverParts<D>;
}

export interface StartOptions<D> {
  readonly platform: Platform;
  readonly createBus: (platform: Platform) => AppBus<D>;
  readonly drivers: readonly DriverModule<D>[];
  /** Longest wait for the scan before the shell starts anyway (default 10 000 ms). */
  readonly scanTimeoutMs?: number;
}

export interface App<D> {
  readonly shell: Shell;
  readonly bus: AppBus<D> | null;
}

const MiB = 1024 * 1024;

/** Starts the app; never rejects (every failure is printed on the console). */
export async function startApp<D>(options: StartOptions<D>): Promise<App<D>> {
  const { platform } = options;
  const say = (text: string) => platform.console.write(`${text.replace(/\r?\n/g, "\r\n")}\r\n`);
  const fail = (what: string, error: unknown) => say(`${what}: ${errorReport(error)}`);

  let bus: AppBus<D> | null = null;
  try {
    bus = options.createBus(platform);
  } catch (error) {
    fail("virtio bus unavailable", error);
  }

  const commands: Command[] = [];
  let globals: Record<string, unknown> = {};
  for (const module of options.drivers) {
    try {
      const parts = module.create();
      if (bus !== null) await bus.register(parts.driver);
      commands.push(...(parts.commands ?? []));
      globals = { ...globals, ...parts.globals };
    } catch (error) {
      fail(`driver ${module.name} not loaded`, error);
    }
  }

  if (bus !== null) {
    try {
      const done = await withTimeout(platform, bus.scan(), options.scanTimeoutMs ?? 10_000);
      if (!done) say("virtio scan still running: starting the shell meanwhile");
    } catch (error) {
      fail("virtio scan failed", error);
    }
  }

  say(banner(platform, bus));
  const shell = new Shell({ platform, bus, globals });
  for (const command of commands) {
    try {
      shell.register(command);
    } catch (error) {
      fail(`command ${command?.name} not added`, error);
    }
  }
  shell.start();
  return { shell, bus };
}

/** "virtio-xs on <model> (<platform>): RAM 128 MiB at 0x40000000, 2 virtio devices". */
export function banner(platform: Platform, bus: ShellBus | null): string {
  const { model, ram } = platform.board;
  let devices: string;
  try {
    const n = bus === null ? 0 : bus.devices().length;
    devices = `${n} virtio device${n === 1 ? "" : "s"}`;
  } catch (error) {
    devices = `virtio devices unknown (${errorReport(error).split("\n")[0]})`;
  }
  const mib = Math.round((ram.size / MiB) * 10) / 10;
  return `virtio-xs on ${model} (${platform.name}): RAM ${mib} MiB at 0x${ram.base.toString(16).padStart(8, "0")}, ${devices}`;
}

/** Resolves true when `promise` resolves in time, false on timeout; rejects with it. */
export function withTimeout(platform: Platform, promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const timer = platform.timers.set(() => resolve(false), ms);
    promise.then(
      () => {
        platform.timers.clear(timer);
        resolve(true);
      },
      (error: unknown) => {
        platform.timers.clear(timer);
        reject(error);
      },
    );
  });
}
