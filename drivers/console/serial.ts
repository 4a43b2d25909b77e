// A virtio console port as an ECMA-419 Serial (`embedded:io/serial`): one options object,
// callbacks onReadable(count) / onWritable(count) / onError(error), read() and write()
// in "buffer" (ArrayBuffer) or "number" (one byte) format, close() safe twice. Every
// option is checked before the port is taken. Callbacks run from the event loop (or a
// promise job), never from inside a call the application made.

import { ConsoleClosedError } from "./errors.js";
import type { ConsoleListener, ConsolePort } from "./console-port.js";
import { utf8Encode } from "./utf8.js";

export type SerialFormat = "buffer" | "number";

export interface SerialOptions {
  /** The console port (ConsoleDriver.ports()[n]); ConsoleDriver.open() fills it in. */
  readonly port: ConsolePort;
  /** "buffer" (default): read() gives an ArrayBuffer; "number": one byte per read(). */
  readonly format?: SerialFormat;
  /** Bytes arrived: `count` bytes can be read. */
  readonly onReadable?: (this: Serial, count: number) => void;
  /** Room freed: `count` bytes can be written. Also called once after construction. */
  readonly onWritable?: (this: Serial, count: number) => void;
  /** The device broke a rule, was reset or went away. */
  readonly onError?: (this: Serial, error: Error) => void;
}

const FORMATS: readonly string[] = ["buffer", "number"];

function checkCallback(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "function") throw new TypeError(`${name} must be a function`);
}

export class Serial {
  #port: ConsolePort | null;
  #format: SerialFormat;
  readonly #listener: ConsoleListener;
  readonly #location: string;

  constructor(options: SerialOptions) {
    if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
    const { port, format = "buffer", onReadable, onWritable, onError } = options;
    if (port === null || typeof port !== "object" || typeof port.listen !== "function") throw new TypeError("options.port must be a ConsolePort");
    if (!FORMATS.includes(format)) throw new RangeError(`format ${String(format)} must be "buffer" or "number"`);
    checkCallback("onReadable", onReadable);
    checkCallback("onWritable", onWritable);
    checkCallback("onError", onError);
    if (port.closed) throw new ConsoleClosedError(port.location, "open the port (device unbound)");
    this.#format = format;
    this.#location = port.location;
    this.#listener = {
      readable: (count) => onReadable?.call(this, count),
      writable: (count) => onWritable?.call(this, count),
      error: (error) => onError?.call(this, error),
    };
    port.listen(this.#listener);
    this.#port = port;
    // ECMA-419: onWritable tells the room available once the port is open; so does
    // onReadable for bytes that arrived before. Both after the constructor returns.
    void Promise.resolve().then(() => {
      const p = this.#port;
      if (p === null) return;
      if (p.readable > 0) this.#listener.readable(p.readable);
      if (p.writable > 0) this.#listener.writable(p.writable);
    });
  }

  get format(): SerialFormat {
    return this.#format;
  }

  set format(value: SerialFormat) {
    if (!FORMATS.includes(value)) throw new RangeError(`format ${String(value)} must be "buffer" or "number"`);
    this.#format = value;
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
    return this.#open("size").size;
  }

  /**
   * "buffer": an ArrayBuffer of what has arrived (at most `count` bytes if given), or
   * undefined when nothing has. "number": the next byte, or undefined.
   */
  read(count?: number): ArrayBuffer | number | undefined {
    const port = this.#open("read");
    if (this.#format === "number") return port.read(1)?.[0];
    if (count !== undefined && (!Number.isInteger(count) || count < 0)) throw new RangeError(`count ${count} must be a non-negative integer`);
    const bytes = port.read(count ?? Infinity);
    return bytes === undefined ? undefined : (bytes.buffer as ArrayBuffer);
  }

  /**
   * Writes an ArrayBuffer, a typed array or DataView, or a string (as UTF-8); in "number"
   * format also one byte. Throws ConsoleWriteError if it is more than `writable`.
   */
  write(data: ArrayBuffer | ArrayBufferView | string | number): void {
    const port = this.#open("write");
    port.write(toBytes(data));
  }

  /** Lets the port go; safe to call twice. */
  close(): void {
    const port = this.#port;
    if (port === null) return;
    this.#port = null;
    port.unlisten(this.#listener);
  }

  #open(operation: string): ConsolePort {
    if (this.#port === null) throw new ConsoleClosedError(this.#location, operation);
    return this.#port;
  }
}

function toBytes(data: ArrayBuffer | ArrayBufferView | string | number): Uint8Array {
  if (typeof data === "string") return utf8Encode(data);
  if (typeof data === "number") {
    if (!Number.isInteger(data) || data < 0 || data > 255) throw new RangeError(`byte ${data} must be an integer from 0 to 255`);
    return Uint8Array.of(data);
  }
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("write() takes an ArrayBuffer, a typed array, a DataView, a string or a byte");
}
