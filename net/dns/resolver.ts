// A DNS stub resolver over UDP in the shape of ECMA-419's `embedded:network/dns/resolver/udp`:
// `new DnsResolver({stack, servers})` then `resolve({host, onResolved(host, address),
// onError(error)})`. Servers default to the DNS server DHCP gave. Queries go to each
// server in turn, `attempts` times in all, `timeoutMs` apart; a random 16-bit ID and the
// server's address and port must match (RFC 5452 basics). Bounded: at most `maxPending`
// queries at once, a cache of `cacheSize` names kept for their TTL (at most an hour).

import { formatIpv4, parseIpv4, toIpv4 } from "../ip/address.js";
import type { IpStack, UdpEndpoint } from "../ip/ip-stack.js";
import { NetError } from "../errors.js";
import { buildQuery, checkName, parseResponse } from "./message.js";

export const DNS_PORT = 53;

export class DnsError extends NetError {
  constructor(readonly host: string, readonly reason: string) {
    super(`DNS ${host}: ${reason}`);
  }
}

export interface DnsResolverOptions {
  readonly stack: IpStack;
  /** Server addresses; default: the DHCP lease's DNS server. */
  readonly servers?: readonly string[];
  readonly timeoutMs?: number;
  readonly attempts?: number;
  readonly maxPending?: number;
  readonly cacheSize?: number;
}

export interface ResolveOptions {
  readonly host: string;
  onResolved(host: string, address: string): void;
  onError?(error: Error): void;
}

interface Pending {
  readonly host: string;
  readonly id: number;
  readonly request: ResolveOptions;
  readonly query: Uint8Array;
  attempt: number;
  server: number;
  timer: number | null;
}

export class DnsResolver {
  readonly #stack: IpStack;
  readonly #servers: number[] | null;
  readonly #timeoutMs: number;
  readonly #attempts: number;
  readonly #maxPending: number;
  readonly #cacheSize: number;
  readonly #pending = new Map<number, Pending>();
  readonly #cache = new Map<string, { address: number; expires: number }>();
  readonly #endpoint: UdpEndpoint;
  #port = 0;
  #closed = false;
  readonly stats = { queries: 0, answers: 0, timeouts: 0, mismatched: 0, cacheHits: 0 };

  constructor(options: DnsResolverOptions) {
    if (options === null || typeof options !== "object" || options.stack === undefined) throw new TypeError("options.stack is required");
    this.#stack = options.stack;
    this.#servers = options.servers === undefined ? null : options.servers.map((s) => toIpv4(s, "DNS server"));
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#attempts = options.attempts ?? 3;
    this.#maxPending = options.maxPending ?? 8;
    this.#cacheSize = options.cacheSize ?? 16;
    this.#endpoint = { deliver: (payload, address, port) => this.#receive(payload, address, port) };
  }

  /** Resolves `host` to an IPv4 address; a dotted quad answers at once (next turn). */
  resolve(request: ResolveOptions): void {
    if (this.#closed) throw new DnsError(request.host, "resolver closed");
    const host = request.host.toLowerCase();
    const timers = this.#stack.env.timers;
    if (parseIpv4(host) !== null) {
      timers.set(() => request.onResolved(request.host, host), 0);
      return;
    }
    checkName(host);
    const cached = this.#cache.get(host);
    if (cached !== undefined && cached.expires > this.#stack.env.clock.now()) {
      this.stats.cacheHits++;
      timers.set(() => request.onResolved(request.host, formatIpv4(cached.address)), 0);
      return;
    }
    const servers = this.#serverList();
    if (servers.length === 0) throw new DnsError(host, "no DNS server (none given, none from DHCP)");
    if (this.#pending.size >= this.#maxPending) throw new DnsError(host, `${this.#pending.size} queries already pending`);
    if (this.#port === 0) this.#port = this.#stack.bindUdp(0, this.#endpoint);
    let id: number;
    do id = Math.floor(Math.random() * 0x10000);
    while (this.#pending.has(id));
    const p: Pending = { host, id, request, query: buildQuery(id, host), attempt: 0, server: 0, timer: null };
    this.#pending.set(id, p);
    this.#send(p);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) if (p.timer !== null) this.#stack.env.timers.clear(p.timer);
    this.#pending.clear();
    if (this.#port !== 0) this.#stack.unbindUdp(this.#port, this.#endpoint);
  }

  #serverList(): number[] {
    if (this.#servers !== null) return this.#servers;
    const dns = this.#stack.dhcpLease?.dns ?? 0;
    return dns === 0 ? [] : [dns];
  }

  #send(p: Pending): void {
    const servers = this.#serverList();
    if (p.attempt >= this.#attempts || servers.length === 0) {
      this.#pending.delete(p.id);
      this.stats.timeouts++;
      this.#fail(p, `no answer after ${p.attempt} queries`);
      return;
    }
    p.server = servers[p.attempt % servers.length]!;
    p.attempt++;
    this.stats.queries++;
    try {
      this.#stack.sendUdp(this.#port, p.server, DNS_PORT, p.query);
    } catch {
      // the query is lost like a dropped datagram: the timer sends it again
    }
    p.timer = this.#stack.env.timers.set(() => {
      p.timer = null;
      this.#send(p);
    }, this.#timeoutMs);
  }

  #receive(payload: Uint8Array, address: number, port: number): void {
    if (payload.length < 2) return;
    const id = (payload[0]! << 8) | payload[1]!;
    const p = this.#pending.get(id);
    if (p === undefined || address !== p.server || port !== DNS_PORT) {
      this.stats.mismatched++;
      return;
    }
    let answer;
    try {
      answer = parseResponse(payload);
    } catch (error) {
      this.stats.mismatched++;
      return; // a broken answer: wait for another (or the timeout)
    }
    this.#pending.delete(id);
    if (p.timer !== null) this.#stack.env.timers.clear(p.timer);
    this.stats.answers++;
    const first = answer.addresses[0];
    if (answer.rcode !== 0 || first === undefined) {
      this.#fail(p, answer.rcode === 3 ? "no such name" : answer.rcode !== 0 ? `server error ${answer.rcode}` : "no A record");
      return;
    }
    if (this.#cache.size >= this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(p.host, { address: first, expires: this.#stack.env.clock.now() + Math.min(answer.ttl, 3600) * 1000 });
    try {
      p.request.onResolved(p.request.host, formatIpv4(first));
    } catch (error) {
      p.request.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #fail(p: Pending, reason: string): void {
    try {
      p.request.onError?.(new DnsError(p.host, reason));
    } catch {
      // nowhere left to report
    }
  }
}
