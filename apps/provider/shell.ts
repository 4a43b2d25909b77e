// The UART shell beside an app (manifest: include apps/shell/manifest.json): the same
// commands as the default firmware, on the provider's drivers, after the banner. The
// shell then holds the UART: the app uses the virtio consoles or the network.

import { Shell } from "../shell/shell.js";
import { banner } from "../start.js";
import { blkCommand } from "../shell/commands/blk.js";
import { consoleCommand } from "../shell/commands/console.js";
import { inputCommand } from "../shell/commands/input.js";
import { netCommand } from "../shell/commands/net.js";
import { rngCommand } from "../shell/commands/rng.js";
import type { ProviderContext } from "./context.js";

export function startProviderShell(context: ProviderContext): Shell {
  const { platform, bus, drivers } = context;
  const commands = [rngCommand(drivers.rng), blkCommand(drivers.blk), netCommand(drivers.net), consoleCommand(drivers.console), inputCommand(drivers.input)];
  const globals = { rng: drivers.rng, blk: drivers.blk, net: drivers.net, vconsole: drivers.console, input: drivers.input };
  platform.console.write(`${banner(platform, bus)}\r\n`);
  const shell = new Shell({ platform, bus, commands, globals });
  shell.start();
  return shell;
}
