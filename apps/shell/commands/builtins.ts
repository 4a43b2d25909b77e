// The shell's built-in commands, in the order `help` lists them.

import type { Command } from "../command.js";
import { batchCommand } from "./batch.js";
import { devicesCommand } from "./devices.js";
import { pciCommand } from "./pci.js";
import { helpCommand } from "./help.js";
import { jsCommand } from "./js.js";
import { memCommand } from "./mem.js";
import { poweroffCommand } from "./poweroff.js";

export function builtinCommands(): Command[] {
  return [helpCommand, devicesCommand, pciCommand, jsCommand, memCommand, batchCommand, poweroffCommand];
}
