// A started shell and its `run(line)`, for the tests of the shell and of its commands:
// on the fake platform (fakeShell) or on a host model rig's UART (modelShell). run()
// types the line and a carriage return and returns what the shell printed until idle.

import type { Command } from "../../../apps/shell/command.js";
import { Shell, type ShellOptions } from "../../../apps/shell/shell.js";
import type { Rig } from "../core/rig.js";
import { fakePlatform, type FakePlatform } from "./fake-platform.js";

export interface ShellRig {
  readonly shell: Shell;
  readonly run: (line: string) => Promise<string>;
}

/** A shell on the fake platform (a new one unless `platform` is given). */
export function fakeShell(options: Omit<ShellOptions, "platform"> & { readonly platform?: FakePlatform } = {}): ShellRig & { readonly platform: FakePlatform } {
  const platform = options.platform ?? fakePlatform();
  const shell = new Shell({ ...options, platform });
  shell.start();
  const run = async (line: string) => {
    platform.clearOutput();
    platform.type(`${line}\r`);
    await shell.whenIdle();
    return platform.output();
  };
  return { platform, shell, run };
}

/** A shell on the host model's UART with the rig's bus and `commands`; run() lets the
 * model settle (device work, interrupts) before waiting for the shell. */
export function modelShell(r: Rig, commands: readonly Command[]): ShellRig & { readonly uart: Rig["model"]["console"] } {
  const shell = new Shell({ platform: r.model.platform, bus: r.bus, commands });
  shell.start();
  const uart = r.model.console;
  const run = async (line: string) => {
    uart.takeOutput();
    uart.type(`${line}\r`);
    await r.model.settle();
    await shell.whenIdle();
    return uart.takeOutput();
  };
  return { shell, uart, run };
}
