// The drivers the app registers on the virtio bus, and the shell commands and `js`
// globals they bring. Adding a driver is one entry in `drivers` (plus, when it brings
// commands, a small function like `rng()` below). DriverModule is in apps/start.ts.

import { BalloonDriver } from "../drivers/balloon/balloon-driver.js";
import { BlkDriver } from "../drivers/blk/blk-driver.js";
import { GpuDriver } from "../drivers/gpu/gpu-driver.js";
import { NinepDriver } from "../drivers/9p/ninep-driver.js";
import { MemDriver } from "../drivers/mem/mem-driver.js";
import { NetDriver } from "../drivers/net/net-driver.js";
import { IpStack } from "../net/ip/ip-stack.js";
import { RngDriver } from "../drivers/rng/rng-driver.js";
import type { VirtioDriver } from "../drivers/virtio/driver.js";
import { ConsoleDriver } from "../drivers/console/console-driver.js";
import { InputDriver } from "../drivers/input/input-driver.js";
import { consoleCommand } from "./shell/commands/console.js";
import { inputCommand } from "./shell/commands/input.js";
import { balloonCommand } from "./shell/commands/balloon.js";
import { blkCommand } from "./shell/commands/blk.js";
import { gpuCommand } from "./shell/commands/gpu.js";
import { vmemCommand } from "./shell/commands/vmem.js";
import { netCommand } from "./shell/commands/net.js";
import { rngCommand } from "./shell/commands/rng.js";
import { fsCommand } from "./shell/commands/fs.js";
import type { DriverModule, DriverParts } from "./start.js";

type Parts = DriverParts<VirtioDriver>;

function rng(): Parts {
  const driver = new RngDriver();
  return { driver, commands: [rngCommand(driver)], globals: { rng: driver } };
}

function blk(): Parts {
  const driver = new BlkDriver();
  return { driver, commands: [blkCommand(driver)], globals: { blk: driver } };
}

function net(): Parts {
  const driver = new NetDriver({ stack: (nic, platform) => new IpStack(nic, {}, platform) }); // IPv4 by DHCP on each network device
  return { driver, commands: [netCommand(driver)], globals: { net: driver } };
}

// `vconsole`, not `console`: the js global `console` stays the engine's.
function virtioConsole(): Parts {
  const driver = new ConsoleDriver();
  return { driver, commands: [consoleCommand(driver)], globals: { vconsole: driver } };
}

function input(): Parts {
  const driver = new InputDriver();
  return { driver, commands: [inputCommand(driver)], globals: { input: driver } };
}

function balloon(): Parts {
  const driver = new BalloonDriver();
  return { driver, commands: [balloonCommand(driver)], globals: { balloon: driver } };
}

function gpu(): Parts {
  const driver = new GpuDriver();
  return { driver, commands: [gpuCommand(driver)], globals: { gpu: driver } };
}

// `fs cp` finds the blk disk through the `blk` global.
function ninep(): Parts {
  // msize 512 KiB: a Tread / Twrite carries 8x what the 64 KiB default does (4 slots: 4 MiB of DMA).
  const driver = new NinepDriver({ msize: 512 * 1024 });
  return { driver, commands: [fsCommand(driver)], globals: { ninep: driver } };
}

function vmem(): Parts {
  const driver = new MemDriver();
  return { driver, commands: [vmemCommand(driver)], globals: { vmem: driver } };
}

export const drivers: readonly DriverModule<VirtioDriver>[] = [
  { name: "rng", create: rng },
  { name: "blk", create: blk },
  { name: "net", create: net },
  { name: "console", create: virtioConsole },
  { name: "input", create: input },
  { name: "balloon", create: balloon },
  { name: "vmem", create: vmem },
  { name: "gpu", create: gpu },
  { name: "9p", create: ninep },
];
