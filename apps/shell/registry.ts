// The command registry: names to commands, in registration order.

import { DuplicateCommandError, InvalidCommandError, type Command } from "./command.js";

const NAME = /^[A-Za-z0-9_.:-]+$/;

export class CommandRegistry {
  readonly #commands = new Map<string, Command>();

  /** Adds commands; throws DuplicateCommandError or InvalidCommandError (nothing added then). */
  add(...commands: readonly Command[]): void {
    const seen = new Set<string>();
    for (const command of commands) {
      if (typeof command?.name !== "string" || !NAME.test(command.name)) {
        throw new InvalidCommandError(command?.name, "a name is one word of letters, digits, _ . : -");
      }
      if (typeof command.run !== "function") throw new InvalidCommandError(command.name, "no run function");
      if (this.#commands.has(command.name) || seen.has(command.name)) {
        throw new DuplicateCommandError(command.name);
      }
      seen.add(command.name);
    }
    for (const command of commands) this.#commands.set(command.name, command);
  }

  get(name: string): Command | undefined {
    return this.#commands.get(name);
  }

  list(): readonly Command[] {
    return [...this.#commands.values()];
  }
}
