// The board's UART (the PL011 on `virt`, the platform's console) as a byte port for the
// ECMA-419 Serial (drivers/console/serial.ts): received bytes are kept (up to a limit,
// beyond which they are counted as dropped) until read(); write() hands bytes to the
// platform, which sends them at once, so the whole room is free again right after and
// onWritable says so. One listener at a time; the shell, when it runs, holds the UART.

import type { Platform } from "../../platform/platform.js";
import type { ConsoleListener } from "../../drivers/console/console-port.js";
import type { SerialPort } from "../../drivers/console/serial.js";

/** The UART is held by someone else (the shell, or another Serial). */
export class UartBusyError extends Error {
  constructor(readonly location: string) {
    super(`${location}: the UART is already open (the shell or another Serial holds it)`);
    this.name = "UartBusyError";
  }
}

/** Bytes write() takes at once (the platform sends them before returning). */
export const UART_WRITABLE = 4096;

export class UartPort implements SerialPort {
  readonly location: string;
  readonly closed = false;
  readonly #platform: Platform;
  readonly #limit: number;
  #listener: ConsoleListener | null = null;
  #fifo: Uint8Array[] = [];
  #bytes = 0;
  #writablePending = false;
  /** Bytes dropped because nobody read them in time. */
  dropped = 0;
  /** What a callback threw last (recorded, never escaping into the event loop). */
  lastError: Error | null = null;

  constructor(platform: Platform, location = "uart0", limit = 64 * 1024) {
    this.#platform = platform;
    this.location = location;
    this.#limit = limit;
  }

  get readable(): number {
    return this.#bytes;
  }

  get writable(): number {
    return UART_WRITABLE;
  }

  get size(): null {
    return null;
  }

  listen(listener: ConsoleListener): void {
    if (this.#listener !== null || this.#platform.console.onReceive !== null) throw new UartBusyError(this.location);
    this.#listener = listener;
    this.#platform.console.onReceive = (data) => this.#received(data);
  }

  unlisten(listener: ConsoleListener): void {
    if (this.#listener !== listener) return;
    this.#listener = null;
    this.#platform.console.onReceive = null;
    this.#fifo = [];
    this.#bytes = 0;
  }

  tellSoon(listener: ConsoleListener, call: (listener: ConsoleListener) => void): void {
    void Promise.resolve().then(() => {
      if (this.#listener === listener) this.#tell(call);
    });
  }

  read(max = Infinity): Uint8Array | undefined {
    if (this.#bytes === 0 || !(max >= 1)) return undefined;
    const count = Math.min(Math.floor(max), this.#bytes);
    const out = new Uint8Array(count);
    let at = 0;
    while (at < count) {
      const chunk = this.#fifo[0]!;
      const n = Math.min(chunk.length, count - at);
      out.set(chunk.subarray(0, n), at);
      at += n;
      if (n === chunk.length) this.#fifo.shift();
      else this.#fifo[0] = chunk.subarray(n);
    }
    this.#bytes -= count;
    return out;
  }

  write(bytes: Uint8Array): void {
    if (bytes.length > UART_WRITABLE) throw new RangeError(`${this.location}: cannot write ${bytes.length} bytes: at most ${UART_WRITABLE} at once`);
    this.#platform.console.write(bytes);
    // The room is back at once: told once per turn, after the caller's write returns.
    const listener = this.#listener;
    if (this.#writablePending || listener === null) return;
    this.#writablePending = true;
    void Promise.resolve().then(() => {
      this.#writablePending = false;
      if (this.#listener === listener) this.#tell((l) => l.writable(UART_WRITABLE));
    });
  }

  #received(data: Uint8Array): void {
    const room = this.#limit - this.#bytes;
    const kept = data.length <= room ? data : data.subarray(0, Math.max(0, room));
    this.dropped += data.length - kept.length;
    if (kept.length === 0) return;
    this.#fifo.push(kept.slice());
    this.#bytes += kept.length;
    this.#tell((l) => l.readable(this.#bytes));
  }

  #tell(call: (listener: ConsoleListener) => void): void {
    const listener = this.#listener;
    if (listener === null) return;
    try {
      call(listener);
    } catch (error) {
      this.lastError = error instanceof Error ? error : new Error(String(error));
    }
  }
}
