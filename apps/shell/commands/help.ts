// `help [COMMAND]`: every command with its usage and summary, or one command's.

import { UsageError, type Command } from "../command.js";

export const helpCommand: Command = {
  name: "help",
  usage: "help [COMMAND]",
  summary: "list the commands, or show one command's usage",
  run(args, io) {
    const all = io.shell.commands();
    if (args.length > 1) throw new UsageError("too many arguments");
    if (args.length === 1) {
      const command = all.find((c) => c.name === args[0]);
      if (command === undefined) throw new UsageError(`no such command: ${args[0]}`);
      io.print(`usage: ${command.usage}`);
      io.print(`  ${command.summary}`);
      return 0;
    }
    const width = Math.max(...all.map((c) => c.usage.length));
    for (const command of all) io.print(`  ${command.usage.padEnd(width)}  ${command.summary}`);
    return 0;
  },
};
