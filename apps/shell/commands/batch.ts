// `batch on|off`: batch mode for programs driving the shell (the QEMU test harness,
// `npm start -- --run`): echo off, and after each command a line `@@status N` (0 ok,
// 1 failed) before the prompt. The protocol is described in apps/README.md.

import { UsageError, type Command } from "../command.js";

export const batchCommand: Command = {
  name: "batch",
  usage: "batch [on|off]",
  summary: "batch mode: no echo, '@@status N' after each command",
  run(args, io) {
    if (args.length === 0) {
      io.print(`batch ${io.shell.batch ? "on" : "off"}`);
      return 0;
    }
    if (args.length > 1 || (args[0] !== "on" && args[0] !== "off")) throw new UsageError("say on or off");
    io.shell.batch = args[0] === "on";
    return 0;
  },
};
