// `help [COMMAND]`: every command with its usage and summary, or one command's.

import { UsageError, type Command } from "../command.js";

/** Widest usage printed beside its summary. */
const USAGE_COLUMN = 24;

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
    // Usages up to USAGE_COLUMN wide share a line with the summary; longer ones get their own.
    const width = Math.min(USAGE_COLUMN, Math.max(...all.map((c) => c.usage.length)));
    for (const command of all) {
      if (command.usage.length <= width) io.print(`  ${command.usage.padEnd(width)}  ${command.summary}`);
      else io.print(`  ${command.usage}\n  ${"".padEnd(width)}  ${command.summary}`);
    }
    return 0;
  },
};
