// ICMP echo from our side (RFC 792): `ping(stack, address, {size, timeoutMs})` sends one
// echo request and resolves with the reply's round trip, or rejects on timeout. Replies
// are matched by identifier and sequence number and their data checked byte for byte.
// At most 16 pings wait at once per stack.

import { formatIpv4, toIpv4 } from "./address.js";
import { NetError } from "../errors.js";
import { echoRequest } from "./icmp.js";
import type { IpStack } from "./ip-stack.js";

export class PingTimeoutError extends NetError {
  constructor(readonly address: string, readonly ms: number) {
    super(`ping ${address}: no reply in ${ms} ms`);
  }
}

export interface PingReply {
  readonly address: string;
  readonly bytes: number;
  readonly seq: number;
  readonly ttl: number;
  readonly rttMs: number;
}

interface Waiting {
  readonly data: Uint8Array;
  readonly sent: number;
  readonly resolve: (r: PingReply) => void;
  readonly reject: (e: Error) => void;
  readonly timer: number;
}

const MAX_WAITING = 16;
const pingers = new WeakMap<IpStack, Map<number, Waiting>>();
let nextSeq = 1;
const PING_ID = 0x5658; // "VX"

function waitingOf(stack: IpStack): Map<number, Waiting> {
  let waiting = pingers.get(stack);
  if (waiting === undefined) {
    const map = new Map<number, Waiting>();
    waiting = map;
    pingers.set(stack, map);
    stack.onEchoReply = (src, id, seq, data, ttl) => {
      const w = map.get(seq);
      if (id !== PING_ID || w === undefined || data.length !== w.data.length || data.some((b, i) => b !== w.data[i])) return;
      map.delete(seq);
      stack.env.timers.clear(w.timer);
      w.resolve({ address: formatIpv4(src), bytes: data.length, seq, ttl, rttMs: stack.env.clock.now() - w.sent });
    };
  }
  return waiting;
}

export function ping(stack: IpStack, address: string, options: { size?: number; timeoutMs?: number } = {}): Promise<PingReply> {
  const dst = toIpv4(address);
  const size = options.size ?? 56;
  const timeoutMs = options.timeoutMs ?? 2000;
  if (!Number.isInteger(size) || size < 0 || size > 65507 - 8) throw new RangeError(`ping size ${size}: 0 to 65499 bytes`);
  const waiting = waitingOf(stack);
  if (waiting.size >= MAX_WAITING) throw new RangeError(`${waiting.size} pings already waiting`);
  const seq = nextSeq;
  nextSeq = (nextSeq % 0xffff) + 1;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i + seq) & 0xff;
  return new Promise<PingReply>((resolve, reject) => {
    const timer = stack.env.timers.set(() => {
      waiting.delete(seq);
      reject(new PingTimeoutError(address, timeoutMs));
    }, timeoutMs);
    waiting.set(seq, { data, sent: stack.env.clock.now(), resolve, reject, timer });
    try {
      stack.sendIcmp(dst, echoRequest(PING_ID, seq, data));
    } catch (error) {
      waiting.delete(seq);
      stack.env.timers.clear(timer);
      reject(error);
    }
  });
}
