// A TCP socket in the shape of ECMA-419's `embedded:io/socket/tcp` (the IO class pattern):
// `new TCP({stack, address | host, port, nodelay, onReadable, onWritable, onError})`
// connects; `new TCP({from, ...})` takes over a connection a Listener accepted.
// onWritable(count) first fires when the connection is established; onReadable(count)
// when bytes wait; onError(error) when the connection fails or the peer has closed and
// every byte was read (PeerClosedError). read(count?) returns an ArrayBuffer (undefined
// when nothing waits); write(buffer) takes the whole buffer or throws; close() sends FIN
// (RST if unread data remains) and is safe twice; other methods throw after it.

import type { Timers } from "../../platform/platform.js";
import { formatIpv4, toIpv4 } from "../ip/address.js";
import { SocketClosedError } from "../ip/errors.js";
import type { IpStack } from "../ip/ip-stack.js";
import type { TcpConnection, TcpEvents } from "./connection.js";
import { PeerClosedError } from "./errors.js";
import { tcpLayer } from "./tcp-layer.js";

export interface TcpSocketOptions {
  /** The interface (ECMA-419 leaves how a socket finds its network to the host). */
  readonly stack?: IpStack;
  /** The remote address, dotted quad ("10.0.2.2"). */
  readonly address?: string;
  /** Same as address (a name must be resolved first: see net/dns). */
  readonly host?: string;
  readonly port?: number;
  /** A socket from Listener.read(): this one takes its connection over. */
  readonly from?: TCP;
  /** Sends small segments at once (no Nagle). Default false. */
  readonly nodelay?: boolean;
  onReadable?: ((count: number) => void) | null;
  onWritable?: ((count: number) => void) | null;
  onError?: ((error: Error) => void) | null;
}

/** Module-private: how Listener.read() makes a socket for an accepted connection. */
const ACCEPTED = Symbol("accepted");
interface Internal {
  readonly [ACCEPTED]?: { readonly conn: TcpConnection; readonly timers: Timers };
}

export class TCP {
  onReadable: ((count: number) => void) | null;
  onWritable: ((count: number) => void) | null;
  onError: ((error: Error) => void) | null;
  #conn: TcpConnection | null;
  #closed = false;
  #connected = false;
  readonly #timers: Timers;

  constructor(options: TcpSocketOptions) {
    if (options === null || typeof options !== "object") throw new TypeError("options object required");
    this.onReadable = options.onReadable ?? null;
    this.onWritable = options.onWritable ?? null;
    this.onError = options.onError ?? null;
    const accepted = (options as Internal)[ACCEPTED];
    if (accepted !== undefined) {
      this.#conn = accepted.conn;
      this.#timers = accepted.timers;
      this.#connected = true;
      this.#conn.events = this.#events();
      return;
    }
    if (options.from !== undefined) {
      const from = options.from;
      if (!(from instanceof TCP) || from.#conn === null) throw new TypeError("options.from must be an open TCP socket");
      this.#conn = from.#conn;
      this.#timers = from.#timers;
      this.#connected = from.#connected;
      from.#conn = null;
      from.#closed = true;
      if (options.nodelay !== undefined) this.#conn.out.nagle = !options.nodelay;
      this.#conn.events = this.#events();
      this.#timers.set(() => this.#announce(), 0); // what arrived before the hand-over
      return;
    }
    const stack = options.stack;
    if (stack === undefined) throw new TypeError("options.stack (or options.from) is required");
    const text = options.address ?? options.host;
    if (text === undefined) throw new TypeError("options.address or options.host is required");
    const address = toIpv4(text);
    const port = options.port;
    if (port === undefined || !Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`port ${port} must be 1 to 65535`);
    const nodelay = options.nodelay ?? false;
    this.#timers = stack.env.timers;
    this.#conn = tcpLayer(stack).connect(address, port);
    this.#conn.out.nagle = !nodelay;
    this.#conn.events = this.#events();
  }

  /** A socket for a connection a Listener accepted (no callbacks yet). */
  static accepted(conn: TcpConnection, timers: Timers): TCP {
    return new TCP({ [ACCEPTED]: { conn, timers } } as TcpSocketOptions);
  }

  get format(): "buffer" {
    return "buffer";
  }

  set format(value: string) {
    if (value !== "buffer") throw new RangeError(`format ${value}: only "buffer"`);
  }

  get remoteAddress(): string | undefined {
    return this.#conn === null ? undefined : formatIpv4(this.#conn.remoteAddress);
  }

  get remotePort(): number | undefined {
    return this.#conn?.remotePort;
  }

  get port(): number | undefined {
    return this.#conn?.localPort;
  }

  /** The connection's state (RFC 9293 names), "CLOSED" once gone. */
  get state(): string {
    return this.#conn?.state ?? "CLOSED";
  }

  /** Bytes waiting to be read. */
  get readable(): number {
    return this.#conn?.readable ?? 0;
  }

  /** Bytes write() takes now. */
  get writable(): number {
    return this.#conn?.writable ?? 0;
  }

  /** Up to `count` bytes (all waiting when absent); undefined when none wait. */
  read(count?: number): ArrayBuffer | undefined {
    const conn = this.#check();
    const n = Math.min(count ?? Infinity, conn.readable);
    if (count !== undefined && (!Number.isInteger(count) || count < 0)) throw new RangeError(`read count ${count} must be an integer >= 0`);
    if (n === 0) return undefined;
    const buffer = new ArrayBuffer(n);
    conn.read(n, new Uint8Array(buffer), 0);
    return buffer;
  }

  /** Queues every byte of `buffer` for sending; throws RangeError when they do not all
   * fit (wait for onWritable), or the connection cannot send. */
  write(buffer: ArrayBuffer | ArrayBufferView): void {
    const conn = this.#check();
    const bytes = ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) : new Uint8Array(buffer);
    const room = conn.writable;
    if (bytes.length > room) throw new RangeError(`write of ${bytes.length} bytes: ${room} writable (${conn.state})`);
    conn.write(bytes);
  }

  /** FIN after the data written (RST when unread data remains); safe twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onReadable = this.onWritable = this.onError = null;
    const conn = this.#conn;
    this.#conn = null;
    if (conn === null) return;
    conn.events = null;
    conn.orphan = true;
    if (conn.readable > 0) conn.abort();
    else conn.close();
  }

  #check(): TcpConnection {
    if (this.#closed) throw new SocketClosedError("TCP socket");
    const conn = this.#conn;
    if (conn === null || conn.isClosed()) throw new SocketClosedError("TCP connection");
    return conn;
  }

  #events(): TcpEvents {
    return {
      connected: () => {
        this.#connected = true;
        const w = this.#conn?.writable ?? 0;
        if (w > 0) this.#call(this.onWritable, w);
      },
      readable: (count) => this.#call(this.onReadable, count),
      writable: (count) => this.#call(this.onWritable, count),
      peerClosed: () => {
        const conn = this.#conn;
        if (conn !== null) this.#fail(new PeerClosedError(formatIpv4(conn.remoteAddress), conn.remotePort));
      },
      failed: (error) => this.#fail(error),
    };
  }

  /** After `from`: tell the new owner what is already there. */
  #announce(): void {
    const conn = this.#conn;
    if (this.#closed || conn === null) return;
    if (conn.readable > 0) this.#call(this.onReadable, conn.readable);
    if (this.#closed) return;
    if (conn.writable > 0) this.#call(this.onWritable, conn.writable);
    if (conn.peerFinSignalled && conn.readable === 0) this.#fail(new PeerClosedError(formatIpv4(conn.remoteAddress), conn.remotePort));
  }

  #fail(error: Error): void {
    const onError = this.onError;
    if (onError === null || this.#closed) return;
    try {
      onError(error);
    } catch {
      // nowhere left to report
    }
  }

  #call(fn: ((count: number) => void) | null, count: number): void {
    if (fn === null || this.#closed) return;
    try {
      fn.call(this, count);
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
