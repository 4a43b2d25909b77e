// A TCP listener in the shape of ECMA-419's `embedded:io/socket/listener`:
// `new Listener({stack, port, onReadable, onError})`; onReadable(count) says how many
// accepted connections wait; read() returns one as a TCP socket (undefined when none),
// to use directly or to hand to `new TCP({from, ...})`. close() is safe twice; it resets
// the connections not yet read. The backlog of half-open connections and the queue of
// accepted ones are bounded (TcpOptions.backlog, acceptQueue): a SYN beyond is dropped.

import { toIpv4 } from "../ip/address.js";
import { SocketClosedError } from "../ip/errors.js";
import type { IpStack } from "../ip/ip-stack.js";
import type { TcpConnection } from "./connection.js";
import { tcpLayer, type ListenEntry, type TcpLayer } from "./tcp-layer.js";
import { TCP } from "./tcp-socket.js";

export interface ListenerOptions {
  readonly stack: IpStack;
  readonly port: number;
  /** Local address: absent, "0.0.0.0" or the interface's own. */
  readonly address?: string;
  onReadable?: ((count: number) => void) | null;
  onError?: ((error: Error) => void) | null;
}

export class Listener {
  onReadable: ((count: number) => void) | null;
  onError: ((error: Error) => void) | null;
  readonly #layer: TcpLayer;
  readonly #entry: ListenEntry;
  #closed = false;

  constructor(options: ListenerOptions) {
    if (options === null || typeof options !== "object" || options.stack === undefined) throw new TypeError("options.stack is required");
    const port = options.port;
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`port ${port} must be 1 to 65535`);
    if (options.address !== undefined && options.address !== "0.0.0.0" && toIpv4(options.address) !== options.stack.address) {
      throw new RangeError(`address ${options.address} is not this interface's`);
    }
    this.onReadable = options.onReadable ?? null;
    this.onError = options.onError ?? null;
    this.#layer = tcpLayer(options.stack);
    this.#entry = {
      port,
      halfOpen: new Set<TcpConnection>(),
      queue: [],
      accepted: (count) => this.#accepted(count),
    };
    this.#layer.listen(this.#entry);
  }

  get port(): number {
    return this.#entry.port;
  }

  get format(): "socket/tcp" {
    return "socket/tcp";
  }

  /** Accepted connections waiting for read(). */
  get readable(): number {
    return this.#entry.queue.length;
  }

  /** The next accepted connection as a TCP socket, or undefined. */
  read(): TCP | undefined {
    if (this.#closed) throw new SocketClosedError("TCP listener");
    const conn = this.#entry.queue.shift();
    if (conn === undefined) return undefined;
    return TCP.accepted(conn, this.#layer.timers);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onReadable = this.onError = null;
    this.#layer.unlisten(this.#entry);
  }

  #accepted(count: number): void {
    const fn = this.onReadable;
    if (fn === null || this.#closed) return;
    try {
      fn.call(this, count);
    } catch (error) {
      const onError = this.onError;
      if (onError !== null) onError(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
