// A small HTTP/1.1 client in the shape of ECMA-419's `embedded:network/http/client`:
// `new HttpClient({stack, host, port, resolver?})`, then `request({method, path, headers,
// body, onHeaders(status, headers), onReadable(count), onDone(error)})`; in onReadable the
// response body is taken with `read(count?)`. Requests on one client go one after the
// other over one connection, kept alive when the server allows (RFC 9112 §9.3), opened
// again when it closed. Bodies by Content-Length, chunked, or until the server closes.
// Bounded: the response head (maxHeaderBytes, 8192), requests queued (maxQueue, 4), the
// body held between onReadable and read() (what TCP buffers: its window closes).

import type { IpStack } from "../ip/ip-stack.js";
import type { DnsResolver } from "../dns/resolver.js";
import { TCP } from "../tcp/tcp-socket.js";
import { ChunkedDecoder, HttpError, asciiBytes, bodyFraming, headEnd, parseHead } from "./message.js";

export interface HttpClientOptions {
  readonly stack: IpStack;
  /** Dotted quad, or a name (then `resolver` is needed). */
  readonly host: string;
  readonly port?: number;
  readonly resolver?: DnsResolver;
  readonly maxHeaderBytes?: number;
  readonly maxQueue?: number;
}

export interface HttpClientRequest {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  onHeaders?(status: number, headers: Map<string, string>): void;
  /** Body bytes wait: take them with client.read(). */
  onReadable?(count: number): void;
  /** The response ended (error null) or failed. */
  onDone?(error: Error | null): void;
}

type Phase = "idle" | "connecting" | "head" | "body" | "done";

export class HttpClient {
  readonly #options: HttpClientOptions;
  readonly #queue: HttpClientRequest[] = [];
  #current: HttpClientRequest | null = null;
  #socket: TCP | null = null;
  #address: string | null = null;
  #phase: Phase = "idle";
  #head = new Uint8Array(0);
  #headFilled = 0;
  /** Decoded body bytes waiting for read(). */
  #body: Uint8Array[] = [];
  #bodyBytes = 0;
  #left = 0;
  #framing: number | "chunked" | "until-close" = 0;
  #chunked: ChunkedDecoder | null = null;
  #keepAlive = false;
  #closed = false;
  readonly stats = { requests: 0, connections: 0, bytes: 0 };

  constructor(options: HttpClientOptions) {
    if (options === null || typeof options !== "object" || options.stack === undefined) throw new TypeError("options.stack is required");
    if (typeof options.host !== "string" || options.host === "") throw new TypeError("options.host is required");
    const port = options.port ?? 80;
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`port ${port} must be 1 to 65535`);
    this.#options = options;
    this.#head = new Uint8Array(options.maxHeaderBytes ?? 8192);
  }

  request(request: HttpClientRequest): void {
    if (this.#closed) throw new HttpError(0, "HTTP client closed");
    if (this.#queue.length >= (this.#options.maxQueue ?? 4)) throw new RangeError(`${this.#queue.length} requests already queued`);
    this.#queue.push(request);
    if (this.#current === null) this.#next();
  }

  /** Up to `count` body bytes of the current response (all waiting when absent). */
  read(count = Infinity): ArrayBuffer | undefined {
    if (this.#bodyBytes === 0) return undefined;
    const n = Math.min(count, this.#bodyBytes);
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const piece = this.#body[0]!;
      const take = Math.min(piece.length, n - at);
      out.set(piece.subarray(0, take), at);
      at += take;
      if (take === piece.length) this.#body.shift();
      else this.#body[0] = piece.subarray(take);
    }
    this.#bodyBytes -= n;
    if (this.#bodyBytes === 0) this.#pull(); // TCP held the rest back: take it now
    this.#maybeDone();
    return out.buffer;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket?.close();
    this.#socket = null;
    const current = this.#current;
    this.#current = null;
    this.#queue.length = 0;
    current?.onDone?.(new HttpError(0, "HTTP client closed"));
  }

  #next(): void {
    const request = this.#queue.shift();
    if (request === undefined) return;
    this.#current = request;
    this.#headFilled = 0;
    this.#body = [];
    this.#bodyBytes = 0;
    this.#chunked = null;
    if (this.#socket !== null && this.#keepAlive) {
      this.#send();
      return;
    }
    this.#socket?.close();
    this.#socket = null;
    this.#phase = "connecting";
    if (this.#address !== null) this.#connect(this.#address);
    else if (this.#options.resolver !== undefined) {
      this.#options.resolver.resolve({
        host: this.#options.host,
        onResolved: (_host, address) => {
          this.#address = address;
          this.#connect(address);
        },
        onError: (error) => this.#finish(error),
      });
    } else {
      this.#address = this.#options.host;
      this.#connect(this.#options.host);
    }
  }

  #connect(address: string): void {
    if (this.#closed) return;
    let sent = false;
    try {
      const socket: TCP = new TCP({
        stack: this.#options.stack,
        address,
        port: this.#options.port ?? 80,
        nodelay: true,
        onWritable: () => {
          if (!sent) {
            sent = true;
            this.#send();
          } else this.#flush();
        },
        onReadable: () => this.#pull(),
        onError: (error) => this.#socketError(socket, error),
      });
      this.#socket = socket;
      this.stats.connections++;
    } catch (error) {
      this.#finish(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #out: Uint8Array[] = [];

  #send(): void {
    const r = this.#current!;
    const method = r.method ?? "GET";
    let head = `${method} ${r.path ?? "/"} HTTP/1.1\r\nhost: ${this.#options.host}${this.#options.port === undefined || this.#options.port === 80 ? "" : `:${this.#options.port}`}\r\n`;
    for (const [k, v] of Object.entries(r.headers ?? {})) head += `${k}: ${v}\r\n`;
    if (r.body !== undefined) head += `content-length: ${r.body.length}\r\n`;
    head += "\r\n";
    this.#out = [asciiBytes(head), ...(r.body !== undefined ? [r.body] : [])];
    this.#phase = "head";
    this.stats.requests++;
    this.#flush();
  }

  #flush(): void {
    const socket = this.#socket;
    if (socket === null) return;
    while (this.#out.length > 0 && socket.writable > 0) {
      const p = this.#out[0]!;
      const n = Math.min(p.length, socket.writable);
      socket.write(p.subarray(0, n));
      if (n === p.length) this.#out.shift();
      else this.#out[0] = p.subarray(n);
    }
  }

  /** Takes bytes from TCP: the head first, then the body (only while read() keeps up). */
  #pull(): void {
    const socket = this.#socket;
    if (socket === null || this.#current === null) return;
    try {
      while (this.#phase === "head") {
        const room = this.#head.length - this.#headFilled;
        if (room === 0) throw new HttpError(0, `response head over ${this.#head.length} bytes`);
        const piece = socket.read(room);
        if (piece === undefined) return;
        this.#head.set(new Uint8Array(piece), this.#headFilled);
        this.#headFilled += piece.byteLength;
        this.#tryHead();
      }
      while (this.#phase === "body" && this.#bodyBytes < 16384) {
        const piece = socket.read(this.#framing === "chunked" || this.#framing === "until-close" ? 16384 : Math.min(16384, this.#left));
        if (piece === undefined) break;
        this.#bodyPiece(new Uint8Array(piece));
      }
    } catch (error) {
      this.#abort(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.#bodyBytes > 0) this.#current?.onReadable?.(this.#bodyBytes);
    this.#maybeDone();
  }

  #tryHead(): void {
    const end = headEnd(this.#head, this.#headFilled);
    if (end < 0) return;
    const head = parseHead(this.#head, end, 64);
    const [version, statusText] = head.start;
    const status = Number(statusText);
    if (!/^HTTP\/1\.[01]$/.test(version) || !Number.isInteger(status) || status < 100 || status > 599) throw new HttpError(0, `bad status line "${head.start.join(" ")}"`);
    const connection = (head.headers.get("connection") ?? "").toLowerCase();
    this.#keepAlive = version === "HTTP/1.1" ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    const noBody = this.#current!.method === "HEAD" || status === 204 || status === 304 || status < 200;
    this.#framing = noBody ? 0 : bodyFraming(head.headers, false);
    if (this.#framing === "until-close") this.#keepAlive = false;
    if (this.#framing === "chunked") this.#chunked = new ChunkedDecoder();
    this.#left = typeof this.#framing === "number" ? this.#framing : 0;
    this.#phase = "body";
    this.#current!.onHeaders?.(status, head.headers);
    const rest = this.#head.slice(end, this.#headFilled);
    this.#headFilled = 0;
    if (rest.length > 0) this.#bodyPiece(rest);
  }

  #bodyPiece(bytes: Uint8Array): void {
    if (this.#framing === "chunked") {
      this.#chunked!.feed(bytes, (p) => this.#hold(p.slice()));
      if (this.#chunked!.done) this.#phase = "done";
    } else if (this.#framing === "until-close") {
      this.#hold(bytes);
    } else {
      const n = Math.min(bytes.length, this.#left);
      this.#hold(bytes.subarray(0, n));
      this.#left -= n;
      if (this.#left === 0) this.#phase = "done";
    }
  }

  #hold(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#body.push(bytes);
    this.#bodyBytes += bytes.length;
    this.stats.bytes += bytes.length;
  }

  #maybeDone(): void {
    if (this.#phase === "body" && typeof this.#framing === "number" && this.#left === 0) this.#phase = "done";
    if (this.#phase !== "done" || this.#bodyBytes > 0) return;
    if (!this.#keepAlive) {
      this.#socket?.close();
      this.#socket = null;
    }
    this.#finish(null);
  }

  #socketError(socket: TCP, error: Error): void {
    if (socket !== this.#socket) return;
    if (error.name === "PeerClosedError" && this.#phase === "body" && this.#framing === "until-close") {
      this.#phase = "done";
      this.#keepAlive = false;
      this.#maybeDone();
      return;
    }
    this.#abort(error);
  }

  #abort(error: Error): void {
    this.#socket?.close();
    this.#socket = null;
    this.#keepAlive = false;
    if (this.#phase !== "idle") this.#finish(error);
  }

  #finish(error: Error | null): void {
    const r = this.#current;
    this.#current = null;
    this.#phase = "idle";
    if (r !== null) {
      try {
        r.onDone?.(error);
      } catch {
        // the application's error: nowhere to report
      }
    }
    if (!this.#closed && this.#queue.length > 0) this.#next();
  }
}
