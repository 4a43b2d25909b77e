// ECMA-419's Serial (`embedded:io/serial`, IO class pattern) over a byte port: a virtio
// console port (console-port.ts) or the board's UART (apps/provider/uart-port.ts).
// `port` is a specifier ("hvc0", "uart0": the provider's names), resolved by the resolver
// the subclass or the driver passes; every option is checked before the port is taken.
// Callbacks onReadable(count) / onWritable(count) / onError(error) run with `this` = the
// instance, from the event loop or a promise job, never inside a call the application
// made, and always through the port's guard (what they throw is recorded, never escapes).
// read() / read(count) / read(buffer) and write() in "buffer" or "number" format, flush(),
// set(), target, close() safe twice; every other method throws after close().

import { ConsoleClosedError } from "./errors.js";
import type { ConsoleListener, ConsoleSize } from "./console-port.js";
import { utf8Encode } from "./utf8.js";

export type SerialFormat = "buffer" | "number";

/** What a Serial needs of its port (ConsolePort has this shape). */
export interface SerialPort {
  readonly location: string;
  /** True once the port is gone for good (device unbound). */
  readonly closed: boolean;
  /** Bytes received and not yet read. */
  readonly readable: number;
  /** Bytes write() takes now. */
  readonly writable: number;
  readonly size?: ConsoleSize | null;
  /** Makes `listener` the only one; throws a busy error if another holds the port. */
  listen(listener: ConsoleListener): void;
  unlisten(listener: ConsoleListener): void;
  /** The shared callback guard: `call` in a promise job, if `listener` still holds the port. */
  tellSoon(listener: ConsoleListener, call: (listener: ConsoleListener) => void): void;
  /** Up to `max` received bytes; undefined when none. */
  read(max?: number): Uint8Array | undefined;
  write(bytes: Uint8Array): void;
}

/** Finds the port a specifier names; throws RangeError for an unknown one. */
export type SerialPortResolver = (specifier: unknown) => SerialPort;

export interface SerialOptions {
  /** The port's specifier: "uart0" (the PL011), "hvc0", "hvc1", ... (virtio consoles). */
  readonly port: string | number;
  /** "buffer" (default): read() gives an ArrayBuffer; "number": one byte per read(). */
  readonly format?: SerialFormat;
  /** Accepted for portability (a positive number); the virtual lines have no rate. */
  readonly baud?: number;
  /** "none" only: neither port has flow-control lines. */
  readonly flowControl?: "none";
  /** Stored as-is on the instance (ECMA-419 `target`). */
  readonly target?: unknown;
  /** Bytes arrived: `count` bytes can be read. */
  readonly onReadable?: (this: Serial, count: number) => void;
  /** Room freed: `count` bytes can be written. Also called once after construction. */
  readonly onWritable?: (this: Serial, count: number) => void;
  /** The device broke a rule, was reset or went away. */
  readonly onError?: (this: Serial, error: Error) => void;
}

/** What set() takes (ECMA-419); neither port has these lines: accepted, no effect. */
export interface SerialSetOptions {
  readonly dataTerminalReady?: boolean;
  readonly requestToSend?: boolean;
  readonly break?: boolean;
}

const FORMATS: readonly string[] = ["buffer", "number"];

function checkCallback(name: string, value: unknown): void {
  if (value !== undefined && value !== null && typeof value !== "function") throw new TypeError(`${name} must be a function`);
}

function checkFormat(value: unknown): SerialFormat {
  if (!FORMATS.includes(value as string)) throw new RangeError(`format ${String(value)} must be "buffer" or "number"`);
  return value as SerialFormat;
}

export class Serial {
  /** ECMA-419: options.target, as given. */
  readonly target: unknown;
  #port: SerialPort | null = null;
  #format: SerialFormat;
  readonly #listener: ConsoleListener;
  readonly #location: string;

  constructor(options: SerialOptions, resolve: SerialPortResolver) {
    if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
    const { format = "buffer", baud, flowControl, onReadable, onWritable, onError } = options;
    if (options.port === undefined) throw new TypeError("options.port is required (\"uart0\", \"hvc0\", ...)");
    this.#format = checkFormat(format);
    if (baud !== undefined && !(typeof baud === "number" && baud > 0 && Number.isFinite(baud))) throw new RangeError(`baud ${String(baud)} must be a positive number`);
    if (flowControl !== undefined && flowControl !== "none") throw new RangeError(`flowControl "${String(flowControl)}": this port has no flow-control lines (only "none")`);
    checkCallback("onReadable", onReadable);
    checkCallback("onWritable", onWritable);
    checkCallback("onError", onError);
    const port = resolve(options.port);
    if (port.closed) throw new ConsoleClosedError(port.location, "open the port (device unbound)");
    this.target = options.target;
    this.#location = port.location;
    this.#listener = {
      readable: (count) => onReadable?.call(this, count),
      writable: (count) => onWritable?.call(this, count),
      error: (error) => onError?.call(this, error),
    };
    port.listen(this.#listener); // the one resource: taken after every check
    this.#port = port;
    // ECMA-419: onWritable tells the room once the port is open; onReadable the bytes that
    // arrived before. After the constructor returns, through the port's guard.
    port.tellSoon(this.#listener, (listener) => {
      if (port.readable > 0) listener.readable(port.readable);
      if (port.writable > 0) listener.writable(port.writable);
    });
  }

  get format(): SerialFormat {
    return this.#format;
  }

  set format(value: SerialFormat) {
    this.#format = checkFormat(value);
  }

  /** Bytes that can be read now. */
  get readable(): number {
    return this.#open("readable").readable;
  }

  /** Bytes write() takes now. */
  get writable(): number {
    return this.#open("writable").writable;
  }

  /** The console size from the device (VIRTIO_CONSOLE_F_SIZE), or null. */
  get size(): { readonly cols: number; readonly rows: number } | null {
    return this.#open("size").size ?? null;
  }

  /**
   * "buffer": read() an ArrayBuffer of what has arrived, read(count) of at most `count`
   * bytes (undefined when nothing has), read(buffer) fills an ArrayBuffer or view and
   * returns the bytes read (0 when none). "number": the next byte, or undefined.
   */
  read(): ArrayBuffer | number | undefined;
  read(count: number): ArrayBuffer | undefined;
  read(buffer: ArrayBuffer | ArrayBufferView): number;
  read(what?: number | ArrayBuffer | ArrayBufferView): ArrayBuffer | number | undefined {
    const port = this.#open("read");
    if (this.#format === "number") {
      if (what !== undefined) throw new TypeError('read() takes no argument in "number" format');
      return port.read(1)?.[0];
    }
    if (what === undefined) return port.read(Infinity)?.buffer as ArrayBuffer | undefined;
    if (typeof what === "number") {
      if (!Number.isInteger(what) || what < 0) throw new RangeError(`count ${what} must be a non-negative integer`);
      return port.read(what)?.buffer as ArrayBuffer | undefined;
    }
    const target = viewOf(what, "read()");
    const bytes = port.read(target.length);
    if (bytes === undefined) return 0;
    target.set(bytes);
    return bytes.length;
  }

  /**
   * Writes an ArrayBuffer, a typed array or DataView, or a string (as UTF-8); in "number"
   * format (or any) one byte. Throws (ConsoleWriteError) if it is more than `writable`.
   */
  write(data: ArrayBuffer | ArrayBufferView | string | number): void {
    const port = this.#open("write");
    port.write(toBytes(data));
  }

  /** Discards the bytes received and not yet read (with `input` false: nothing). Bytes
   * already written belong to the device: they are sent, not discarded. */
  flush(input: unknown = true, _output: unknown = true): void {
    const port = this.#open("flush");
    if (input) port.read(Infinity);
  }

  /** ECMA-419 line control. Neither the PL011 on QEMU nor virtio-console port 0 has modem
   * lines: the values are checked and have no effect. */
  set(options: SerialSetOptions): void {
    this.#open("set");
    if (options === null || typeof options !== "object") throw new TypeError("set() takes an options object");
    for (const key of ["dataTerminalReady", "requestToSend", "break"] as const) {
      const value = options[key];
      if (value !== undefined && typeof value !== "boolean") throw new TypeError(`set(): ${key} must be a boolean`);
    }
  }

  /** Lets the port go; safe to call twice. */
  close(): void {
    const port = this.#port;
    if (port === null) return;
    this.#port = null;
    port.unlisten(this.#listener);
  }

  #open(operation: string): SerialPort {
    if (this.#port === null) throw new ConsoleClosedError(this.#location, operation);
    return this.#port;
  }
}

function viewOf(data: ArrayBuffer | ArrayBufferView, what: string): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${what} takes an ArrayBuffer, a typed array or a DataView`);
}

function toBytes(data: ArrayBuffer | ArrayBufferView | string | number): Uint8Array {
  if (typeof data === "string") return utf8Encode(data);
  if (typeof data === "number") {
    if (!Number.isInteger(data) || data < 0 || data > 255) throw new RangeError(`byte ${data} must be an integer from 0 to 255`);
    return Uint8Array.of(data);
  }
  return viewOf(data, "write()");
}
