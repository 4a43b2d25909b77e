// The virtio shell: a prompt on the platform console, a line editor, a command registry and
// one command running at a time. Input typed while a command runs is queued and replayed
// at the next prompt; Ctrl-C while a command runs interrupts it and drops the type-ahead.
// Batch mode (`batch on`, for the test harness and `npm start -- --run`) turns echo off and
// prints `@@status N` after each command, before the prompt: see apps/README.md.

import type { Platform } from "../../platform/platform.js";
import { UsageError, type Command, type CommandIO, type ShellBus, type ShellControl, type Status } from "./command.js";
import { builtinCommands } from "./commands/builtins.js";
import { errorReport } from "./inspect.js";
import { LineEditor } from "./line-editor.js";
import { CommandRegistry } from "./registry.js";
import { splitCommand, tokenize } from "./tokenize.js";

export const PROMPT = "virtio> ";
/** The line batch mode prints after each command: `@@status 0` or `@@status 1`. */
export const STATUS_PREFIX = "@@status ";

const CTRL_C = 0x03;
/** Most bytes of type-ahead kept while a command runs; more are dropped (bell). */
export const MAX_TYPE_AHEAD = 65536;
/** The first stack frame of the shell itself, below a failing command. */
const SHELL_FRAMES = /^at (Shell\.)?(execute|#startLine)\b/;

export interface ShellOptions {
  readonly platform: Platform;
  /** The virtio bus (`devices`); null or absent when there is none. */
  readonly bus?: ShellBus | null;
  /** Commands added after the built-in ones (driver modules' commands). */
  readonly commands?: readonly Command[];
  /** Include help, batch, devices, js, mem, poweroff (default true). */
  readonly builtins?: boolean;
  /** Extra globals `js` sees, by name. */
  readonly globals?: Readonly<Record<string, unknown>>;
  /** Prompt text (default "virtio> "). */
  readonly prompt?: string;
}

/** What one running command has of the shell: its interrupt state. */
interface Running {
  interrupted: boolean;
  wake: (() => void)[];
}

export class Shell implements ShellControl {
  readonly #platform: Platform;
  readonly #bus: ShellBus | null;
  readonly #registry = new CommandRegistry();
  readonly #globals: Readonly<Record<string, unknown>>;
  readonly #prompt: string;
  readonly #editor: LineEditor;
  /** Received bytes not yet given to the editor (type-ahead while a command runs). */
  #queue: Uint8Array[] = [];
  #queueOffset = 0;
  #running: Running | null = null;
  #batch = false;
  #started = false;
  #closed = false;
  /** Settles when the command running now completes (for tests and scripts). */
  #idle: Promise<void> = Promise.resolve();

  constructor(options: ShellOptions) {
    if (options?.platform?.console === undefined) throw new TypeError("Shell needs options.platform");
    this.#platform = options.platform;
    this.#bus = options.bus ?? null;
    this.#globals = { ...(options.globals ?? {}) };
    this.#prompt = options.prompt ?? PROMPT;
    if (options.builtins !== false) this.#registry.add(...builtinCommands());
    if (options.commands) this.#registry.add(...options.commands);
    this.#editor = new LineEditor({
      write: (text) => this.#platform.console.write(text),
      onLine: (line) => this.#startLine(line),
      onCancel: () => this.#showPrompt(),
    });
  }

  get batch(): boolean {
    return this.#batch;
  }

  set batch(on: boolean) {
    this.#batch = on;
    this.#editor.echo = !on;
  }

  /** True while a command runs. */
  get busy(): boolean {
    return this.#running !== null;
  }

  commands(): readonly Command[] {
    return this.#registry.list();
  }

  /** Adds commands (a driver module's) at any time; throws on a duplicate name. */
  register(...commands: readonly Command[]): void {
    this.#registry.add(...commands);
  }

  /** Takes the console's input and prints the first prompt. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#platform.console.onReceive = (data) => this.#receive(data);
    this.#showPrompt();
  }

  /** Lets go of the console input; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#started && this.#platform.console.onReceive !== null) this.#platform.console.onReceive = null;
    this.#queue = [];
  }

  /** Resolves once no command is running, including those started from queued input. */
  async whenIdle(): Promise<void> {
    while (this.#running !== null) await this.#idle;
  }

  /**
   * Runs one command line and returns its status (0 or 1), printing its output but no
   * prompt or status line. Never throws.
   */
  async execute(line: string): Promise<Status> {
    const { name, rest } = splitCommand(line);
    if (name === "") return 0;
    const command = this.#registry.get(name);
    if (command === undefined) {
      this.#print(`unknown command: ${name} (try 'help')`);
      return 1;
    }
    const running = this.#running ?? { interrupted: false, wake: [] };
    try {
      const args = command.rawArgs ? (rest === "" ? [] : [rest]) : tokenize(rest);
      const status = await command.run(args, this.#io(rest, running));
      return status === undefined || status === 0 ? 0 : 1;
    } catch (error) {
      if (error instanceof UsageError) {
        this.#print(error.message);
        this.#print(`usage: ${command.usage}`);
      } else {
        this.#write(errorReport(error, SHELL_FRAMES));
        this.#print();
      }
      return 1;
    }
  }

  #io(argText: string, running: Running): CommandIO {
    return {
      platform: this.#platform,
      bus: this.#bus,
      shell: this,
      argText,
      globals: this.#globals,
      write: (text) => this.#write(text),
      print: (text = "") => this.#print(text),
      get interrupted() {
        return running.interrupted;
      },
      untilInterrupted: () =>
        running.interrupted ? Promise.resolve() : new Promise<void>((resolve) => running.wake.push(resolve)),
    };
  }

  #write(text: string): void {
    this.#platform.console.write(text.replace(/\r?\n/g, "\r\n"));
  }

  #print(line = ""): void {
    this.#write(`${line}\n`);
  }

  #showPrompt(): void {
    if (!this.#closed) this.#platform.console.write(this.#prompt);
  }

  #receive(data: Uint8Array): void {
    if (this.#closed || data.length === 0) return;
    const running = this.#running;
    const cut = data.lastIndexOf(CTRL_C);
    if (running !== null && cut >= 0) {
      // Ctrl-C while a command runs: interrupt it and drop what was typed before the ^C.
      this.#queue = [];
      this.#queueOffset = 0;
      this.#interrupt(running);
      data = data.subarray(cut + 1);
    }
    if (data.length > 0) this.#enqueue(data);
    this.#pump();
  }

  #enqueue(data: Uint8Array): void {
    let queued = -this.#queueOffset;
    for (const chunk of this.#queue) queued += chunk.length;
    const room = MAX_TYPE_AHEAD - queued;
    if (data.length > room) this.#platform.console.write("\x07");
    if (room > 0) this.#queue.push(data.slice(0, room));
  }

  #interrupt(running: Running): void {
    if (!running.interrupted) this.#platform.console.write("^C\r\n");
    running.interrupted = true;
    const wake = running.wake.splice(0);
    for (const resolve of wake) resolve();
  }

  /** Feeds queued bytes to the editor until they run out or a line starts a command. */
  #pump(): void {
    while (this.#running === null && this.#queue.length > 0 && !this.#closed) {
      const chunk = this.#queue[0]!;
      const byte = chunk[this.#queueOffset++]!;
      if (this.#queueOffset >= chunk.length) {
        this.#queue.shift();
        this.#queueOffset = 0;
      }
      this.#editor.push(byte);
    }
  }

  #startLine(line: string): void {
    if (line.trim() === "") {
      this.#showPrompt();
      return;
    }
    const running: Running = { interrupted: false, wake: [] };
    const batchBefore = this.#batch;
    this.#running = running;
    this.#idle = this.execute(line)
      .catch(() => 1) // execute never throws; this keeps the loop safe regardless
      .then((status) => this.#finish(status, batchBefore))
      .catch(() => {
        this.#running = null; // the console failed while finishing: stay usable
      });
  }

  /** A command that starts or ends in batch mode is followed by its status line. */
  #finish(status: Status, batchBefore: boolean): void {
    this.#running = null;
    if (batchBefore || this.#batch) this.#print(`${STATUS_PREFIX}${status}`);
    this.#showPrompt();
    this.#pump();
  }
}
