// What a shell command is, and what it is given to run: the contract between the shell
// and every command, built-in or added by a driver module (apps/drivers.ts).

import type { Platform } from "../../platform/platform.js";
import type { DeviceInfo } from "../../drivers/virtio/device-info.js";

/** The part of the virtio bus the shell uses (drivers/virtio/bus.ts implements it). */
export interface ShellBus {
  devices(): readonly DeviceInfo[];
  /** Windows that could not be probed (not virtio-mmio, unsupported version). */
  problems?(): readonly { readonly slot: number; readonly base: number; readonly error: Error }[];
  /** Resets every bound device and lets its driver go (before power-off). */
  shutdown?(): Promise<void>;
}

/** Exit status: 0 ok, anything else failed (the shell reports it as 1). */
export type Status = number;

/** The shell as a command sees it. */
export interface ShellControl {
  /** Batch mode: no echo, and `@@status N` after each command (see apps/README.md). */
  batch: boolean;
  /** Every registered command, in registration order. */
  commands(): readonly Command[];
}

/** What a running command is given. */
export interface CommandIO {
  readonly platform: Platform;
  /** The virtio bus, or null when the app runs without one. */
  readonly bus: ShellBus | null;
  readonly shell: ShellControl;
  /** The command line after the command name, leading blanks removed, otherwise raw. */
  readonly argText: string;
  /** Extra globals the app exposes (to `js`), by name. */
  readonly globals: Readonly<Record<string, unknown>>;
  /** Writes text; "\n" becomes "\r\n". */
  write(text: string): void;
  /** Writes one line ending "\r\n". */
  print(line?: string): void;
  /** True once Ctrl-C was typed while this command runs. */
  readonly interrupted: boolean;
  /** Resolves when Ctrl-C is typed while this command runs (for commands that serve
   * until stopped, such as `net udp-echo`). */
  untilInterrupted(): Promise<void>;
}

export interface Command {
  /** One word, no blanks. */
  readonly name: string;
  /** e.g. "js <expression>"; starts with the name. */
  readonly usage: string;
  /** One line for `help`. */
  readonly summary: string;
  /** True: the shell does not split the arguments; `args` is `[argText]` (or empty). */
  readonly rawArgs?: boolean;
  /** Runs the command; returns its status (undefined counts as 0). Throwing is status 1:
   * a UsageError prints its message and the usage, any other error its stack. */
  run(args: readonly string[], io: CommandIO): Status | void | Promise<Status | void>;
}

/** Base of the shell's errors. */
export class ShellError extends Error {
  override name = "ShellError";
}

/** Wrong arguments: the shell prints the message and the command's usage, no stack. */
export class UsageError extends ShellError {
  override name = "UsageError";
}

/** Two commands with the same name. */
export class DuplicateCommandError extends ShellError {
  override name = "DuplicateCommandError";
  readonly commandName: string;
  constructor(name: string) {
    super(`command already registered: ${name}`);
    this.commandName = name;
  }
}

/** A command record that is not usable (no name, a name with blanks, no run function). */
export class InvalidCommandError extends ShellError {
  override name = "InvalidCommandError";
  readonly commandName: unknown;
  constructor(name: unknown, why: string) {
    super(`invalid command ${JSON.stringify(String(name))}: ${why}`);
    this.commandName = name;
  }
}
