// HTTP/1.1 message framing (RFC 9112): the head (start line and header fields) parsed
// with hard bounds, and the chunked transfer coding decoded incrementally. Text is
// ASCII/Latin-1 byte for byte (header fields are octets, RFC 9110 §5.5).

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export interface HttpHead {
  /** Request: method, target, version. Response: version, status, reason. */
  readonly start: [string, string, string];
  /** Field names lower-cased; repeated fields joined with ", " (RFC 9110 §5.3). */
  readonly headers: Map<string, string>;
  /** Bytes the head took, the blank line included. */
  readonly length: number;
}

export const CRLF = "\r\n";

/** Where the head ends (index after CRLF CRLF) in `bytes[0..n)`, or -1. */
export function headEnd(bytes: Uint8Array, n: number): number {
  for (let i = 3; i < n; i++) {
    if (bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) return i + 1;
  }
  return -1;
}

export function latin1(bytes: Uint8Array, from = 0, to = bytes.length): string {
  let s = "";
  for (let i = from; i < to; i += 4096) s += String.fromCharCode(...bytes.subarray(i, Math.min(to, i + 4096)));
  return s;
}

export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Parses a head of `length` bytes; `maxFields` bounds the header count. */
export function parseHead(bytes: Uint8Array, length: number, maxFields: number): HttpHead {
  const lines = latin1(bytes, 0, length - 4).split(CRLF);
  const startLine = lines[0] ?? "";
  const parts = startLine.split(" ");
  if (parts.length < 3 && !(parts.length === 2 && /^HTTP\//.test(parts[0]!))) throw new HttpError(400, `bad start line "${startLine.slice(0, 80)}"`);
  const start: [string, string, string] = [parts[0]!, parts[1]!, parts.slice(2).join(" ")];
  const headers = new Map<string, string>();
  if (lines.length - 1 > maxFields) throw new HttpError(431, `${lines.length - 1} header fields: at most ${maxFields}`);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    // RFC 9112 §5.1: no whitespace between the name and the colon; no obsolete line folding
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) throw new HttpError(400, `bad header field "${line.slice(0, 80)}"`);
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const had = headers.get(name);
    headers.set(name, had === undefined ? value : `${had}, ${value}`);
  }
  return { start, headers, length };
}

/** The body length a head announces: a number, "chunked", or "none"/"close" (RFC 9112 §6.3). */
export function bodyFraming(headers: Map<string, string>, isRequest: boolean): number | "chunked" | "until-close" {
  const te = headers.get("transfer-encoding");
  if (te !== undefined) {
    if (!/(^|,)\s*chunked\s*$/i.test(te)) throw new HttpError(isRequest ? 501 : 502, `transfer-encoding ${te} not supported`);
    if (headers.has("content-length")) throw new HttpError(400, "both transfer-encoding and content-length");
    return "chunked";
  }
  const cl = headers.get("content-length");
  if (cl === undefined) return isRequest ? 0 : "until-close";
  if (!/^\d{1,15}$/.test(cl)) throw new HttpError(400, `bad content-length "${cl}"`);
  return Number(cl);
}

/** RFC 9112 §7.1: decodes the chunked coding as bytes come; bounded chunk-size lines. */
export class ChunkedDecoder {
  #state: "size" | "data" | "data-crlf" | "trailer" | "done" = "size";
  #line = "";
  #left = 0;

  get done(): boolean {
    return this.#state === "done";
  }

  /** Feeds bytes; `out` gets the body pieces. Returns the bytes consumed (all of them,
   * unless the body ended inside `bytes`). */
  feed(bytes: Uint8Array, out: (piece: Uint8Array) => void): number {
    let i = 0;
    while (i < bytes.length && this.#state !== "done") {
      if (this.#state === "data") {
        const n = Math.min(this.#left, bytes.length - i);
        out(bytes.subarray(i, i + n));
        i += n;
        this.#left -= n;
        if (this.#left === 0) this.#state = "data-crlf";
        continue;
      }
      const c = bytes[i++]!;
      if (c !== 10) {
        if (c !== 13) this.#line += String.fromCharCode(c);
        if (this.#line.length > 256) throw new HttpError(400, "chunk line longer than 256 bytes");
        continue;
      }
      const line = this.#line;
      this.#line = "";
      if (this.#state === "data-crlf") {
        if (line !== "") throw new HttpError(400, "chunk data not followed by CRLF");
        this.#state = "size";
      } else if (this.#state === "size") {
        const m = /^([0-9a-fA-F]{1,8})(;.*)?$/.exec(line.trim());
        if (m === null) throw new HttpError(400, `bad chunk size "${line.slice(0, 40)}"`);
        this.#left = parseInt(m[1]!, 16);
        this.#state = this.#left === 0 ? "trailer" : "data";
      } else if (line === "") {
        this.#state = "done"; // end of the trailer section
      }
    }
    return i;
  }
}

/** One chunk of the chunked coding around `data` (an empty one ends the body). */
export function chunk(data: Uint8Array): Uint8Array {
  const head = asciiBytes(`${data.length.toString(16)}\r\n`);
  const out = new Uint8Array(head.length + data.length + 2);
  out.set(head, 0);
  out.set(data, head.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

export function utf8(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}
