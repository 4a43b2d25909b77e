// A small HTTP/1.1 server (RFC 9112) on the TCP Listener: persistent connections
// (HTTP/1.1 by default, HTTP/1.0 with "Connection: keep-alive"), pipelined requests
// answered in order, request bodies by Content-Length or chunked, responses with
// Content-Length or chunked. Every size is bounded: the head (maxHeaderBytes, maxFields:
// 431 beyond), the body (maxBodyBytes: 413), connections (maxConnections: the rest wait
// in the listener's bounded queue), requests per connection, idle time.

import type { IpStack } from "../ip/ip-stack.js";
import { Listener } from "../tcp/listener.js";
import type { TCP } from "../tcp/tcp-socket.js";
import { ChunkedDecoder, HttpError, asciiBytes, bodyFraming, chunk, headEnd, parseHead, utf8 } from "./message.js";

export interface HttpRequest {
  readonly method: string;
  readonly target: string;
  readonly version: string;
  readonly headers: Map<string, string>;
  readonly body: Uint8Array;
  readonly remoteAddress: string;
}

export interface HttpResponse {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Send the body with the chunked coding instead of Content-Length. */
  readonly chunked?: boolean;
}

export interface HttpServerOptions {
  readonly stack: IpStack;
  readonly port: number;
  readonly handler: (request: HttpRequest) => HttpResponse;
  /** Largest request head (start line + fields). Default 8192 bytes. */
  readonly maxHeaderBytes?: number;
  /** Most header fields in a request. Default 64. */
  readonly maxFields?: number;
  /** Largest request body. Default 16384 bytes. */
  readonly maxBodyBytes?: number;
  /** Connections served at once. Default 8. */
  readonly maxConnections?: number;
  /** Requests on one connection before it is closed. Default 1000. */
  readonly maxRequests?: number;
  /** A connection idle this long is closed. Default 15000 ms. */
  readonly idleMs?: number;
  onError?: ((error: Error) => void) | null;
}

export interface HttpServerStats {
  connections: number;
  requests: number;
  responses: number;
  /** Requests refused with 4xx/5xx by the framing rules (bad head, too large, ...). */
  rejected: number;
  idleClosed: number;
}

const REASONS: Record<number, string> = {
  200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
  413: "Content Too Large", 431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented",
};

export class HttpServer {
  readonly stats: HttpServerStats = { connections: 0, requests: 0, responses: 0, rejected: 0, idleClosed: 0 };
  readonly #options: HttpServerOptions;
  readonly #listener: Listener;
  readonly #conns = new Set<HttpConnection>();
  #closed = false;

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#listener = new Listener({ stack: options.stack, port: options.port, onReadable: () => this.#accept() });
  }

  get port(): number {
    return this.#listener.port;
  }

  get connections(): number {
    return this.#conns.size;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    for (const c of [...this.#conns]) c.close();
  }

  #accept(): void {
    const max = this.#options.maxConnections ?? 8;
    while (this.#conns.size < max) {
      const socket = this.#listener.read();
      if (socket === undefined) return;
      this.stats.connections++;
      const conn = new HttpConnection(socket, this.#options, this.stats, () => {
        this.#conns.delete(conn);
        if (!this.#closed) this.#accept(); // one left: take a waiting one
      });
      this.#conns.add(conn);
    }
  }
}

class HttpConnection {
  readonly #socket: TCP;
  readonly #options: HttpServerOptions;
  readonly #stats: HttpServerStats;
  readonly #onClose: () => void;
  /** Bytes read, not yet used: the head (and pipelined requests) of what comes. */
  #buffer: Uint8Array;
  #filled = 0;
  #out: Uint8Array[] = [];
  #requests = 0;
  #closeAfterWrite = false;
  #closed = false;
  /** Inside #readable (a response written from it must not re-enter it). */
  #busy = false;
  #idleTimer: number | null = null;
  readonly #timers;

  constructor(socket: TCP, options: HttpServerOptions, stats: HttpServerStats, onClose: () => void) {
    this.#socket = socket;
    this.#options = options;
    this.#stats = stats;
    this.#onClose = onClose;
    this.#timers = options.stack.env.timers;
    this.#buffer = new Uint8Array((options.maxHeaderBytes ?? 8192) + (options.maxBodyBytes ?? 16384));
    socket.onReadable = () => this.#readable();
    socket.onWritable = () => this.#flush();
    socket.onError = () => this.close(); // reset, timeout, or the peer closed
    if (socket.readable > 0) this.#readable();
    this.#touch();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#idleTimer !== null) this.#timers.clear(this.#idleTimer);
    this.#socket.close();
    this.#onClose();
  }

  #touch(): void {
    if (this.#idleTimer !== null) this.#timers.clear(this.#idleTimer);
    this.#idleTimer = this.#timers.set(() => {
      this.#idleTimer = null;
      this.#stats.idleClosed++;
      this.close();
    }, this.#options.idleMs ?? 15000);
  }

  #readable(): void {
    if (this.#closed || this.#busy) return;
    this.#busy = true;
    this.#touch();
    // take what fits; the rest stays in TCP (its window closes: backpressure). A response
    // still being written holds the next request back (bounded output).
    for (;;) {
      while (!this.#closed && !this.#closeAfterWrite && this.#out.length === 0 && this.#filled > 0 && this.#tryRequest());
      if (this.#closed || this.#closeAfterWrite || this.#out.length > 0 || this.#filled >= this.#buffer.length) break;
      const piece = this.#socket.read(this.#buffer.length - this.#filled);
      if (piece === undefined) break;
      this.#buffer.set(new Uint8Array(piece), this.#filled);
      this.#filled += piece.byteLength;
    }
    this.#busy = false;
  }

  /** One whole request at the front of the buffer: answer it and drop it. False: incomplete. */
  #tryRequest(): boolean {
    const maxHead = this.#options.maxHeaderBytes ?? 8192;
    const maxBody = this.#options.maxBodyBytes ?? 16384;
    const end = headEnd(this.#buffer, Math.min(this.#filled, maxHead));
    try {
      if (end < 0) {
        if (this.#filled >= maxHead) throw new HttpError(431, `request head over ${maxHead} bytes`);
        return false;
      }
      const head = parseHead(this.#buffer, end, this.#options.maxFields ?? 64);
      const framing = bodyFraming(head.headers, true);
      let body: Uint8Array;
      let used: number;
      if (framing === "chunked") {
        const decoder = new ChunkedDecoder();
        const pieces: Uint8Array[] = [];
        let size = 0;
        const consumed = decoder.feed(this.#buffer.subarray(end, this.#filled), (p) => {
          size += p.length;
          if (size > maxBody) throw new HttpError(413, `request body over ${maxBody} bytes`);
          pieces.push(p.slice());
        });
        if (!decoder.done) {
          if (this.#filled >= this.#buffer.length) throw new HttpError(413, `chunked request over ${this.#buffer.length} bytes`);
          return false; // wait for the rest
        }
        body = join(pieces, size);
        used = end + consumed;
      } else {
        const length = framing === "until-close" ? 0 : framing;
        if (length > maxBody) throw new HttpError(413, `request body of ${length} bytes: at most ${maxBody}`);
        if (this.#filled < end + length) return false;
        body = this.#buffer.slice(end, end + length);
        used = end + length;
      }
      this.#consume(used);
      this.#answer(head.start, head.headers, body);
      return true;
    } catch (error) {
      const e = error instanceof HttpError ? error : new HttpError(400, String(error));
      this.#stats.rejected++;
      this.#closeAfterWrite = true;
      this.#respond(e.status, { connection: "close", "content-type": "text/plain" }, utf8(`${e.message}\n`), false, "HTTP/1.1");
      return false;
    }
  }

  #consume(n: number): void {
    this.#buffer.copyWithin(0, n, this.#filled);
    this.#filled -= n;
  }

  #answer(start: [string, string, string], headers: Map<string, string>, body: Uint8Array): void {
    const [method, target, version] = start;
    if (!/^HTTP\/1\.[01]$/.test(version)) throw new HttpError(400, `version ${version}`);
    this.#stats.requests++;
    this.#requests++;
    const connection = (headers.get("connection") ?? "").toLowerCase();
    const keepAlive = version === "HTTP/1.1" ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    const last = !keepAlive || this.#requests >= (this.#options.maxRequests ?? 1000);
    let response: HttpResponse;
    try {
      response = this.#options.handler({ method, target, version, headers, body, remoteAddress: this.#socket.remoteAddress ?? "" });
    } catch (error) {
      this.#options.onError?.(error instanceof Error ? error : new Error(String(error)));
      response = { status: 500, body: "internal error\n" };
    }
    const extra: Record<string, string> = { ...(response.headers ?? {}) };
    if (last) extra.connection = "close";
    else if (version === "HTTP/1.0") extra.connection = "keep-alive";
    const bytes = typeof response.body === "string" ? utf8(response.body) : (response.body ?? new Uint8Array(0));
    const chunked = response.chunked === true && version === "HTTP/1.1";
    this.#closeAfterWrite = last;
    this.#respond(response.status ?? 200, extra, method === "HEAD" ? null : bytes, chunked, version, bytes.length);
  }

  #respond(status: number, headers: Record<string, string>, body: Uint8Array | null, chunked: boolean, version: string, length = body?.length ?? 0): void {
    let head = `${version === "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1"} ${status} ${REASONS[status] ?? "Status"}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    head += chunked ? "transfer-encoding: chunked\r\n\r\n" : `content-length: ${length}\r\n\r\n`;
    const parts = [asciiBytes(head)];
    if (body !== null && body.length > 0) {
      if (chunked) {
        for (let i = 0; i < body.length; i += 4096) parts.push(chunk(body.subarray(i, i + 4096)));
      } else parts.push(body);
    }
    if (body !== null && chunked) parts.push(chunk(new Uint8Array(0))); // last chunk, empty trailer
    // one buffer for a small response: one segment, no Nagle wait between head and body
    const total = parts.reduce((n, p) => n + p.length, 0);
    this.#out.push(total <= 4096 ? join(parts, total) : parts[0]!, ...(total <= 4096 ? [] : parts.slice(1)));
    this.#stats.responses++;
    this.#flush();
  }

  #flush(): void {
    if (this.#closed) return;
    while (this.#out.length > 0) {
      const room = this.#socket.writable;
      if (room === 0) return;
      const head = this.#out[0]!;
      const n = Math.min(room, head.length);
      this.#socket.write(head.subarray(0, n));
      if (n === head.length) this.#out.shift();
      else this.#out[0] = head.subarray(n);
    }
    if (this.#closeAfterWrite) this.close();
    else this.#readable(); // requests that waited for the writes (pipelined, or still in TCP)
  }
}

function join(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
