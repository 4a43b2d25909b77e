// `poweroff`: says so, resets the virtio devices (bus.shutdown(): no device keeps using
// memory, §2.4), and powers the machine off (PSCI SYSTEM_OFF on QEMU's virt board; in
// Node the host model ends). A failing shutdown is reported and power-off goes on.

import { UsageError, type Command } from "../command.js";
import { errorLine } from "../inspect.js";

export const poweroffCommand: Command = {
  name: "poweroff",
  usage: "poweroff",
  summary: "reset the virtio devices and power the machine off",
  async run(args, io) {
    if (args.length > 0) throw new UsageError("poweroff takes no arguments");
    io.print("powering off");
    try {
      await io.bus?.shutdown?.();
    } catch (error) {
      io.print(`device shutdown failed: ${errorLine(error)}`);
    }
    io.platform.powerOff();
    return 0;
  },
};
