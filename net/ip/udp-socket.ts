// A UDP socket in the shape of ECMA-419's `embedded:io/socket/udp` (the IO class
// pattern): `new UdpSocket({stack, port, onReadable, onError})`, `read()` returns one
// datagram as an ArrayBuffer with `address` and `port` properties (undefined when none
// is waiting), `write(buffer, address, port)` sends one, `close()` is safe twice and
// every other method throws after it. `format` is always "buffer".
// `stack` names the interface to use (ECMA-419 leaves how a socket finds its network to
// the host); onReadable(count) gets the number of datagrams waiting, as Moddable's
// implementation of the class passes it.

import { formatIpv4, toIpv4 } from "./address.js";
import { SocketClosedError } from "./errors.js";
import type { IpStack, UdpEndpoint } from "./ip-stack.js";

export interface UdpSocketOptions {
  readonly stack: IpStack;
  /** Local port; 0 or absent: an ephemeral one. */
  readonly port?: number;
  /** Local address: absent, "0.0.0.0" or the interface's own. */
  readonly address?: string;
  /** Datagrams held for read() before new ones are dropped. Default 64. */
  readonly queueLength?: number;
  onReadable?: ((count: number) => void) | null;
  onError?: ((error: Error) => void) | null;
}

/** What read() returns: the payload, with where it came from. */
export type UdpDatagramBuffer = ArrayBuffer & { address: string; port: number };

interface Held {
  readonly data: Uint8Array;
  readonly address: number;
  readonly port: number;
}

export class UdpSocket {
  onReadable: ((count: number) => void) | null;
  onError: ((error: Error) => void) | null;
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
    if (options.address !== undefined && options.address !== "0.0.0.0") {
      const address = toIpv4(options.address);
      if (address !== options.stack.address) throw new RangeError(`address ${options.address} is not this interface's`);
    }
    this.#stack = options.stack;
    this.#queueLength = queueLength;
    this.onReadable = options.onReadable ?? null;
    this.onError = options.onError ?? null;
    this.#endpoint = { deliver: (data, address, port) => this.#deliver(data, address, port) };
    this.#port = this.#stack.bindUdp(options.port ?? 0, this.#endpoint); // checks every option before this
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

  /** The next datagram, or undefined. */
  read(): UdpDatagramBuffer | undefined {
    this.#check();
    const held = this.#queue.shift();
    if (held === undefined) return undefined;
    const buffer = held.data.buffer.slice(held.data.byteOffset, held.data.byteOffset + held.data.byteLength) as UdpDatagramBuffer;
    buffer.address = formatIpv4(held.address);
    buffer.port = held.port;
    return buffer;
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
    this.onReadable = this.onError = null;
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
    const onReadable = this.onReadable;
    if (onReadable === null) return;
    try {
      onReadable(this.#queue.length);
    } catch (error) {
      const onError = this.onError;
      if (onError !== null) onError(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
