// DNS messages (RFC 1035 §4): an A query for one name, and the answer section of a
// response read with every bound a hostile server could push on (lengths, compression
// pointers followed at most 16 times, counts).

export const TYPE_A = 1;
export const TYPE_CNAME = 5;
export const CLASS_IN = 1;

export class DnsFormatError extends Error {
  constructor(message: string) {
    super(`DNS: ${message}`);
    this.name = "DnsFormatError";
  }
}

/** RFC 1035 §2.3.1 / §3.1: labels of 1-63 bytes, 255 bytes in all. */
export function checkName(name: string): string[] {
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  const labels = trimmed.split(".");
  if (trimmed.length === 0 || trimmed.length > 253) throw new RangeError(`host name "${name}": 1 to 253 characters`);
  for (const l of labels) {
    if (l.length < 1 || l.length > 63 || !/^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$/.test(l)) throw new RangeError(`host name "${name}": bad label "${l}"`);
  }
  return labels;
}

/** A recursive query (RD) for the A records of `name`. */
export function buildQuery(id: number, name: string): Uint8Array {
  const labels = checkName(name);
  const length = 12 + labels.reduce((n, l) => n + 1 + l.length, 0) + 1 + 4;
  const q = new Uint8Array(length);
  q[0] = id >>> 8;
  q[1] = id & 0xff;
  q[2] = 0x01; // RD
  q[5] = 1; // QDCOUNT
  let i = 12;
  for (const l of labels) {
    q[i++] = l.length;
    for (let k = 0; k < l.length; k++) q[i++] = l.charCodeAt(k);
  }
  q[i++] = 0;
  q[i++] = 0;
  q[i++] = TYPE_A;
  q[i++] = 0;
  q[i++] = CLASS_IN;
  return q;
}

export interface DnsAnswer {
  readonly id: number;
  /** RCODE (0: no error, 3: no such name). */
  readonly rcode: number;
  /** IPv4 addresses of the A records, in order. */
  readonly addresses: number[];
  /** Smallest TTL of those records (seconds). */
  readonly ttl: number;
}

/** Skips a (possibly compressed) name at `at`; returns the offset after it. */
function skipName(m: Uint8Array, at: number): number {
  for (let hops = 0; hops < 128; hops++) {
    if (at >= m.length) throw new DnsFormatError("name runs past the message");
    const len = m[at]!;
    if (len === 0) return at + 1;
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= m.length) throw new DnsFormatError("cut compression pointer");
      return at + 2; // a pointer ends the name here
    }
    if ((len & 0xc0) !== 0) throw new DnsFormatError(`label type ${len >>> 6}`);
    at += 1 + len;
  }
  throw new DnsFormatError("name with too many labels");
}

/** Reads a response: header checks, question skipped, A records of the answer section. */
export function parseResponse(m: Uint8Array): DnsAnswer {
  if (m.length < 12) throw new DnsFormatError(`message of ${m.length} bytes`);
  const id = (m[0]! << 8) | m[1]!;
  if ((m[2]! & 0x80) === 0) throw new DnsFormatError("not a response (QR 0)");
  if ((m[2]! & 0x02) !== 0) throw new DnsFormatError("truncated (TC): TCP retry not supported");
  const rcode = m[3]! & 0x0f;
  const qd = (m[4]! << 8) | m[5]!;
  const an = (m[6]! << 8) | m[7]!;
  if (qd > 4 || an > 64) throw new DnsFormatError(`${qd} questions, ${an} answers`);
  let at = 12;
  for (let i = 0; i < qd; i++) at = skipName(m, at) + 4;
  const addresses: number[] = [];
  let ttl = 0x7fffffff;
  for (let i = 0; i < an; i++) {
    at = skipName(m, at);
    if (at + 10 > m.length) throw new DnsFormatError("cut resource record");
    const type = (m[at]! << 8) | m[at + 1]!;
    const klass = (m[at + 2]! << 8) | m[at + 3]!;
    const recordTtl = ((m[at + 4]! << 24) | (m[at + 5]! << 16) | (m[at + 6]! << 8) | m[at + 7]!) >>> 0;
    const rdlength = (m[at + 8]! << 8) | m[at + 9]!;
    at += 10;
    if (at + rdlength > m.length) throw new DnsFormatError("record data past the message");
    if (type === TYPE_A && klass === CLASS_IN) {
      if (rdlength !== 4) throw new DnsFormatError(`A record of ${rdlength} bytes`);
      addresses.push(((m[at]! << 24) | (m[at + 1]! << 16) | (m[at + 2]! << 8) | m[at + 3]!) >>> 0);
      ttl = Math.min(ttl, recordTtl);
    }
    at += rdlength;
  }
  return { id, rcode, addresses, ttl: addresses.length > 0 ? ttl : 0 };
}
