// A UDP socket in the shape of ECMA-419's `embedded:io/socket/udp` (the IO class
// pattern): options checked before the port is bound; `read()` returns one datagram as an
// ArrayBuffer with `address` and `port` properties (undefined when none is waiting),
// `read(buffer)` copies the next one into a buffer and returns its length (bytes past the
// buffer's end are dropped, as recvfrom does); `write(buffer, address, port)` sends one;
// onReadable(count) gets the datagrams waiting (as Moddable's implementation passes it),
// onWritable(count) the largest datagram write() takes, once after the socket opens;
// callbacks run with `this` = the socket and what they throw goes to onError, never into
// the event loop; `target` is kept as given; `close()` is safe twice and every other
// method throws after it. `format` is always "buffer".
// `stack` names the interface: applications use the provider's `device.io.UDP`
// (apps/provider), which passes its network interface's stack; drivers and tests pass one.

import { formatIpv4, toIpv4 } from "./address.js";
import { SocketClosedError } from "./errors.js";
import type { IpStack, UdpEndpoint } from "./ip-stack.js";

/** The largest payload write() sends: one 1500-byte IPv4 packet, no fragmentation. */
export const UDP_MAX_PAYLOAD = 1472;

export interface UdpSocketOptions {
  readonly stack: IpStack;
  /** Local port; 0 or absent: an ephemeral one. */
  readonly port?: number;
  /** Local address: absent, "0.0.0.0" or the interface's own. */
  readonly address?: string;
  /** "buffer", the only format (ECMA-419). */
  readonly format?: "buffer";
  /** Datagrams held for read() before new ones are dropped. Default 64. */
  readonly queueLength?: number;
  /** Stored as-is on the instance (ECMA-419 `target`). */
  readonly target?: unknown;
  onReadable?: ((this: UdpSocket, count: number) => void) | null;
  onWritable?: ((this: UdpSocket, count: number) => void) | null;
  onError?: ((this: UdpSocket, error: Error) => void) | null;
}

/** What read() returns: the payload, with where it came from. */
export type UdpDatagramBuffer = ArrayBuffer & { address: string; port: number };

interface Held {
  readonly data: Uint8Array;
  readonly address: number;
  readonly port: number;
}

function checkCallback(name: string, value: unknown): void {
  if (value !== undefined && value !== null && typeof value !== "function") throw new TypeError(`${name} must be a function`);
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

export class UdpSocket {
  onReadable: ((this: UdpSocket, count: number) => void) | null;
  onWritable: ((this: UdpSocket, count: number) => void) | null;
  onError: ((this: UdpSocket, error: Error) => void) | null;
  /** ECMA-419: options.target, as given. */
  readonly target: unknown;
  readonly #stack: IpStack;
  readonly #queueLength: number;
  readonly #endpoint: UdpEndpoint;
  #port: number;
  #queue: Held[] = [];
  #closed = false;
  /** Datagrams dropped because read() fell behind. */
  dropped = 0;

  constructor(options: UdpSocketOptions) {
    if (options === null || typeof options !== "object" || options.stack === undefined) throw new TypeError("options.stack is required");
    const queueLength = options.queueLength ?? 64;
    if (!Number.isInteger(queueLength) || queueLength < 1) throw new RangeError(`queueLength ${queueLength} must be a positive integer`);
    if (options.format !== undefined && options.format !== "buffer") throw new RangeError(`format ${String(options.format)}: only "buffer"`);
    if (options.address !== undefined && options.address !== "0.0.0.0") {
      const address = toIpv4(options.address);
      if (address !== options.stack.address) throw new RangeError(`address ${options.address} is not this interface's`);
    }
    checkCallback("onReadable", options.onReadable);
    checkCallback("onWritable", options.onWritable);
    checkCallback("onError", options.onError);
    this.#stack = options.stack;
    this.#queueLength = queueLength;
    this.target = options.target;
    this.onReadable = options.onReadable ?? null;
    this.onWritable = options.onWritable ?? null;
    this.onError = options.onError ?? null;
    this.#endpoint = { deliver: (data, address, port) => this.#deliver(data, address, port) };
    this.#port = this.#stack.bindUdp(options.port ?? 0, this.#endpoint); // checks the port; every other option is checked
    // ECMA-419: onWritable once the socket is open, after the constructor returns.
    void Promise.resolve().then(() => {
      if (!this.#closed) this.#call(this.onWritable, UDP_MAX_PAYLOAD);
    });
  }

  /** The local port. */
  get port(): number {
    return this.#port;
  }

  get format(): "buffer" {
    return "buffer";
  }

  set format(value: string) {
    if (value !== "buffer") throw new RangeError(`format ${value}: only "buffer"`);
  }

  /** Datagrams waiting for read(). */
  get readable(): number {
    return this.#queue.length;
  }

  /** The next datagram (or undefined); with `buffer`, copies it there and returns its
   * length, at most the buffer's (undefined when none is waiting). */
  read(): UdpDatagramBuffer | undefined;
  read(buffer: ArrayBuffer | ArrayBufferView): number | undefined;
  read(buffer?: ArrayBuffer | ArrayBufferView): UdpDatagramBuffer | number | undefined {
    this.#check();
    if (buffer !== undefined && !(buffer instanceof ArrayBuffer) && !ArrayBuffer.isView(buffer)) {
      throw new TypeError("read() takes an ArrayBuffer, a typed array or a DataView");
    }
    const held = this.#queue.shift();
    if (held === undefined) return undefined;
    if (buffer !== undefined) {
      const target = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      const n = Math.min(target.length, held.data.length);
      target.set(held.data.subarray(0, n));
      return n;
    }
    const out = held.data.slice().buffer as UdpDatagramBuffer; // a copy of exactly the payload
    out.address = formatIpv4(held.address);
    out.port = held.port;
    return out;
  }

  /** Sends `buffer` (at most 1472 bytes) to `address`:`port`. Throws when it cannot be sent
   * (no route, no address yet, transmit queue full); ARP resolution is waited for in the stack. */
  write(buffer: ArrayBuffer | ArrayBufferView, address: string, port: number): void {
    this.#check();
    const bytes = ArrayBuffer.isView(buffer)
      ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
      : new Uint8Array(buffer);
    this.#stack.sendUdp(this.#port, toIpv4(address), port, bytes);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stack.unbindUdp(this.#port, this.#endpoint);
    this.#queue = [];
    this.onReadable = this.onWritable = this.onError = null;
  }

  #check(): void {
    if (this.#closed) throw new SocketClosedError("UDP socket");
  }

  #deliver(data: Uint8Array, address: number, port: number): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#queueLength) {
      this.dropped++;
      return;
    }
    this.#queue.push({ data, address, port }); // the stack hands over a frame nobody else holds
    this.#call(this.onReadable, this.#queue.length);
  }

  /** Calls an application callback; what it throws goes to onError (and no further). */
  #call(callback: ((this: UdpSocket, count: number) => void) | null, count: number): void {
    if (callback === null) return;
    try {
      callback.call(this, count);
    } catch (error) {
      const onError = this.onError;
      if (onError === null) return;
      try {
        onError.call(this, asError(error));
      } catch {
        // nowhere left to report
      }
    }
  }
}
