// The host model's console: an in-memory UART. What the code writes collects in
// `output`; tests type input with `type()`, delivered to `onReceive` from the event loop
// (held until a receiver is set, as a UART FIFO would hold it).

import type { ConsolePort } from "../platform.js";
import type { HostScheduler } from "./scheduler.js";

export class HostConsole implements ConsolePort {
  readonly #scheduler: HostScheduler;
  readonly #decoder = new TextDecoder();
  readonly #encoder = new TextEncoder();
  #output = "";
  #held: Uint8Array[] = [];
  #onReceive: ((data: Uint8Array) => void) | null = null;
  /** Also echo output to this sink (e.g. process.stdout.write), if set. */
  echo: ((text: string) => void) | null = null;

  constructor(scheduler: HostScheduler) {
    this.#scheduler = scheduler;
  }

  write(data: string | Uint8Array): void {
    const text = typeof data === "string" ? data : this.#decoder.decode(data);
    this.#output += text;
    this.echo?.(text);
  }

  get onReceive(): ((data: Uint8Array) => void) | null {
    return this.#onReceive;
  }

  set onReceive(handler: ((data: Uint8Array) => void) | null) {
    this.#onReceive = handler;
    if (handler && this.#held.length > 0) {
      const held = this.#held;
      this.#held = [];
      for (const chunk of held) this.#deliver(chunk);
    }
  }

  /** Everything written so far. */
  get output(): string {
    return this.#output;
  }

  /** Returns what was written since the last call and forgets it. */
  takeOutput(): string {
    const out = this.#output;
    this.#output = "";
    return out;
  }

  /** Types input on the console; delivered asynchronously. */
  type(data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? this.#encoder.encode(data) : data.slice();
    if (this.#onReceive) this.#deliver(bytes);
    else this.#held.push(bytes);
  }

  #deliver(bytes: Uint8Array): void {
    this.#scheduler.defer(() => {
      if (this.#onReceive) this.#onReceive(bytes);
      else this.#held.push(bytes);
    });
  }
}
