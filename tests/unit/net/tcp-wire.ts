// A virtual-time world for TCP tests: two IpStacks joined by a wire that can lose,
// duplicate, reorder and delay frames (seeded, so every run is the same), and timers on
// a simulated clock: a 60 s retransmission back-off costs no real time.

import type { Clock, TimerCallback, TimerId, Timers } from "../../../platform/platform.js";
import { IpStack, type IpStackOptions } from "../../../net/ip/ip-stack.js";
import type { Nic } from "../../../net/nic.js";
import { tcpLayer, type TcpLayer } from "../../../net/tcp/tcp-layer.js";
import type { TcpOptions } from "../../../net/tcp/config.js";

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Event {
  at: number;
  seq: number;
  id: TimerId;
  fn: () => void;
}

export class VirtualTime implements Timers, Clock {
  #now = 0;
  #seq = 0;
  #nextId = 1;
  #events: Event[] = [];
  readonly #live = new Set<TimerId>();

  now(): number {
    return this.#now;
  }

  set(callback: TimerCallback, delay = 0, repeat?: number): TimerId {
    const id = this.#nextId++;
    this.#live.add(id);
    const fire = (): void => {
      if (!this.#live.has(id)) return;
      if (repeat !== undefined && repeat > 0) this.#push(this.#now + repeat, id, fire);
      else this.#live.delete(id);
      callback(id);
    };
    this.#push(this.#now + Math.max(0, delay), id, fire);
    return id;
  }

  repeat(callback: TimerCallback, interval: number): TimerId {
    return this.set(callback, interval, interval);
  }

  clear(id: TimerId): void {
    this.#live.delete(id);
  }

  /** Runs `fn` at now + delay (not cancellable: frames on the wire). */
  after(delay: number, fn: () => void): void {
    const id = this.#nextId++;
    this.#live.add(id);
    this.#push(this.#now + delay, id, () => {
      this.#live.delete(id);
      fn();
    });
  }

  /** Timers still pending. */
  get pending(): number {
    return this.#live.size;
  }

  /** Runs events in time order until `done()` or `limitMs` of simulated time passed. */
  run(done: () => boolean, limitMs: number): boolean {
    const end = this.#now + limitMs;
    while (!done()) {
      const e = this.#pop();
      if (e === undefined || e.at > end) {
        if (e !== undefined) this.#push(e.at, e.id, e.fn, e.seq);
        this.#now = Math.max(this.#now, Math.min(end, e?.at ?? end));
        return done();
      }
      this.#now = Math.max(this.#now, e.at);
      e.fn();
    }
    return true;
  }

  /** Advances the clock by `ms`, running what falls due. */
  advance(ms: number): void {
    this.run(() => false, ms);
  }

  #push(at: number, id: TimerId, fn: () => void, seq = this.#seq++): void {
    const e = { at, seq, id, fn };
    // binary insertion keeps (at, seq) order
    let lo = 0;
    let hi = this.#events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.#events[mid]!;
      if (m.at < at || (m.at === at && m.seq < seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#events.splice(lo, 0, e);
  }

  #pop(): Event | undefined {
    return this.#events.shift();
  }
}

export interface Impairments {
  loss?: number;
  duplicate?: number;
  /** Probability that a frame takes an extra delay (arrives after later ones). */
  reorder?: number;
  delayMs?: number;
  /** Extra delay of a reordered frame, up to this. */
  reorderMs?: number;
  /** Drops the frames it returns true for (before the random impairments). */
  drop?: ((frame: Uint8Array, from: WireNic) => boolean) | null;
}

export class WireNic implements Nic {
  readonly mac: Uint8Array;
  mtu = 1500;
  linkUp = true;
  onReadable: ((frame: Uint8Array) => void) | null = null;
  onLinkChange: ((up: boolean) => void) | null = null;
  peer: WireNic | null = null;
  sent = 0;
  /** Tap: every frame this NIC sends, before impairment. */
  tap: ((frame: Uint8Array) => void) | null = null;

  constructor(
    readonly wire: Wire,
    last: number,
  ) {
    this.mac = new Uint8Array([0x52, 0x54, 0, 0, 0, last]);
  }

  write(frame: Uint8Array): void {
    this.sent++;
    this.tap?.(frame);
    this.wire.carry(this, frame.slice());
  }
}

export class Wire {
  readonly a: WireNic;
  readonly b: WireNic;
  readonly stats = { carried: 0, lost: 0, duplicated: 0, reordered: 0 };
  readonly #time: VirtualTime;
  readonly #random: () => number;
  impair: Impairments;

  constructor(time: VirtualTime, seed: number, impair: Impairments = {}) {
    this.#time = time;
    this.#random = rng(seed);
    this.impair = impair;
    this.a = new WireNic(this, 1);
    this.b = new WireNic(this, 2);
    this.a.peer = this.b;
    this.b.peer = this.a;
  }

  carry(from: WireNic, frame: Uint8Array): void {
    const to = from.peer!;
    const i = this.impair;
    const r = this.#random;
    if (i.drop?.(frame, from) === true || r() < (i.loss ?? 0)) {
      this.stats.lost++;
      return;
    }
    const copies = r() < (i.duplicate ?? 0) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let k = 0; k < copies; k++) {
      let delay = i.delayMs ?? 1;
      if (r() < (i.reorder ?? 0)) {
        delay += 1 + r() * (i.reorderMs ?? 20);
        this.stats.reordered++;
      }
      this.stats.carried++;
      const copy = k === 0 ? frame : frame.slice();
      this.#time.after(delay, () => to.onReadable?.(copy));
    }
  }
}

export interface World {
  readonly time: VirtualTime;
  readonly wire: Wire;
  readonly a: IpStack;
  readonly b: IpStack;
  readonly tcpA: TcpLayer;
  readonly tcpB: TcpLayer;
}

export const ADDRESS_A = "10.0.0.1";
export const ADDRESS_B = "10.0.0.2";

/** Two stacks (10.0.0.1 on `a`, 10.0.0.2 on `b`) on one impaired wire. */
export function world(seed: number, impair: Impairments = {}, tcp: TcpOptions = {}, tcpB: TcpOptions = tcp): World {
  const time = new VirtualTime();
  const wire = new Wire(time, seed, impair);
  const env = { timers: time, clock: time };
  const opts = (address: string): IpStackOptions => ({ address, netmask: "255.255.255.0" });
  const a = new IpStack(wire.a, opts(ADDRESS_A), env);
  const b = new IpStack(wire.b, opts(ADDRESS_B), env);
  a.start();
  b.start();
  return { time, wire, a, b, tcpA: tcpLayer(a, tcp), tcpB: tcpLayer(b, tcpB) };
}
