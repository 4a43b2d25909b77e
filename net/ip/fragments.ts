// IPv4 fragment reassembly (RFC 791 §3.2, RFC 815) with hard bounds, so that a flood of
// fragments costs a fixed amount of memory: at most `maxAssemblies` datagrams at once
// (the oldest is dropped for a new one), `perSource` of them from one source, at most
// `maxDatagram` bytes each, `maxBytes` held in all, `maxFragments` pieces per datagram,
// and each one dropped `timeoutMs` after its first fragment. Overlapping fragments drop
// the whole datagram (as RFC 5722 asks of IPv6: overlaps are only ever an attack).
// And the sending side: splitPacket() cuts a packet larger than the MTU into fragments.

import { alignedBytes } from "../bytes.js";
import { ETH_HLEN } from "./ethernet.js";
import { FLAG_MF, IPV4_HLEN, writeIpv4Header } from "./ipv4.js";

export interface ReassemblyOptions {
  /** Default 8. */
  readonly maxAssemblies?: number;
  /** Default 4. */
  readonly perSource?: number;
  /** Largest reassembled payload. Default 16384 bytes. */
  readonly maxDatagram?: number;
  /** Fragment bytes held at once, over all datagrams. Default 65536. */
  readonly maxBytes?: number;
  /** Default 64. */
  readonly maxFragments?: number;
  /** RFC 1122 §3.3.2: a timeout of 60 s to 120 s is usual; ours is shorter. Default 30000 ms. */
  readonly timeoutMs?: number;
}

export interface ReassemblyStats {
  fragments: number;
  reassembled: number;
  timedOut: number;
  overlaps: number;
  tooLarge: number;
  evicted: number;
}

interface Assembly {
  readonly key: string;
  readonly src: number;
  readonly started: number;
  readonly pieces: { offset: number; data: Uint8Array }[];
  bytes: number;
  /** Payload length, known once the last fragment (MF clear) came; -1 before. */
  total: number;
}

export class Reassembler {
  readonly stats: ReassemblyStats = { fragments: 0, reassembled: 0, timedOut: 0, overlaps: 0, tooLarge: 0, evicted: 0 };
  readonly #o: Required<ReassemblyOptions>;
  /** Insertion order = age. */
  readonly #assemblies = new Map<string, Assembly>();
  #held = 0;

  constructor(options: ReassemblyOptions = {}) {
    this.#o = {
      maxAssemblies: options.maxAssemblies ?? 8,
      perSource: options.perSource ?? 4,
      maxDatagram: options.maxDatagram ?? 16384,
      maxBytes: options.maxBytes ?? 65536,
      maxFragments: options.maxFragments ?? 64,
      timeoutMs: options.timeoutMs ?? 30000,
    };
  }

  /** Datagrams being reassembled now. */
  get pending(): number {
    return this.#assemblies.size;
  }

  /** Fragment bytes held now. */
  get heldBytes(): number {
    return this.#held;
  }

  /** One fragment (`offset` in bytes, `more`: MF). Returns the whole payload once complete. */
  add(src: number, dst: number, id: number, protocol: number, offset: number, more: boolean, data: Uint8Array, now: number): Uint8Array | null {
    this.stats.fragments++;
    this.#expire(now);
    const o = this.#o;
    const key = `${src},${dst},${id},${protocol}`;
    let a = this.#assemblies.get(key);
    if (offset + data.length > o.maxDatagram || (more && (data.length & 7) !== 0)) {
      this.stats.tooLarge++; // also: a middle fragment must carry a multiple of 8 bytes
      if (a !== undefined) this.#drop(a);
      return null;
    }
    if (a === undefined) {
      let fromSource = 0;
      let oldestOfSource: Assembly | undefined;
      for (const x of this.#assemblies.values()) {
        if (x.src !== src) continue;
        fromSource++;
        oldestOfSource ??= x;
      }
      if (fromSource >= o.perSource && oldestOfSource !== undefined) this.#evict(oldestOfSource);
      if (this.#assemblies.size >= o.maxAssemblies) this.#evict(this.#assemblies.values().next().value as Assembly);
      a = { key, src, started: now, pieces: [], bytes: 0, total: -1 };
      this.#assemblies.set(key, a);
    }
    const end = offset + data.length;
    for (const p of a.pieces) {
      if (offset < p.offset + p.data.length && p.offset < end) {
        this.stats.overlaps++;
        this.#drop(a);
        return null;
      }
    }
    if (!more) {
      if (a.total >= 0 && a.total !== end) {
        this.stats.overlaps++;
        this.#drop(a);
        return null;
      }
      a.total = end;
    }
    if (a.total >= 0 && end > a.total) {
      this.stats.overlaps++;
      this.#drop(a);
      return null;
    }
    if (a.pieces.length >= o.maxFragments) {
      this.stats.tooLarge++;
      this.#drop(a);
      return null;
    }
    while (this.#held + data.length > o.maxBytes && this.#assemblies.size > 0) {
      const oldest = this.#assemblies.values().next().value as Assembly;
      if (oldest === a) break;
      this.#evict(oldest);
    }
    if (this.#held + data.length > o.maxBytes) {
      this.stats.tooLarge++;
      this.#drop(a);
      return null;
    }
    a.pieces.push({ offset, data: data.slice() });
    a.bytes += data.length;
    this.#held += data.length;
    if (a.total < 0 || a.bytes !== a.total) return null;
    // no overlaps and the byte count equals the length: every byte is covered
    const whole = new Uint8Array(a.total);
    for (const p of a.pieces) whole.set(p.data, p.offset);
    this.#drop(a);
    this.stats.reassembled++;
    return whole;
  }

  clear(): void {
    this.#assemblies.clear();
    this.#held = 0;
  }

  #expire(now: number): void {
    for (const a of this.#assemblies.values()) {
      if (now - a.started < this.#o.timeoutMs) break; // the rest are younger
      this.stats.timedOut++;
      this.#drop(a);
    }
  }

  #evict(a: Assembly): void {
    this.stats.evicted++;
    this.#drop(a);
  }

  #drop(a: Assembly): void {
    if (this.#assemblies.get(a.key) !== a) return;
    this.#assemblies.delete(a.key);
    this.#held -= a.bytes;
  }
}

/** A frame (Ethernet header room, IPv4 header, payload) too large for `mtu` as fragments
 * (RFC 791 §3.2: 8-byte units, MF on all but the last, the header's ID and TTL kept), each
 * a frame of its own with room for the Ethernet header. */
export function splitPacket(frame: Uint8Array, mtu: number): Uint8Array[] {
  const header = frame.subarray(ETH_HLEN, ETH_HLEN + IPV4_HLEN);
  const v = new DataView(header.buffer, header.byteOffset, IPV4_HLEN);
  const id = v.getUint16(4);
  const protocol = header[9]!;
  const src = v.getUint32(12);
  const dst = v.getUint32(16);
  const payload = frame.subarray(ETH_HLEN + IPV4_HLEN);
  const step = ((mtu - IPV4_HLEN) >>> 3) << 3;
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += step) {
    const n = Math.min(step, payload.length - at);
    const piece = alignedBytes(ETH_HLEN + IPV4_HLEN + n, 2);
    piece.set(payload.subarray(at, at + n), ETH_HLEN + IPV4_HLEN);
    const more = at + n < payload.length ? FLAG_MF : 0;
    writeIpv4Header(piece.subarray(ETH_HLEN), src, dst, protocol, n, id, more | (at >>> 3), header[8]!);
    pieces.push(piece);
  }
  return pieces;
}
