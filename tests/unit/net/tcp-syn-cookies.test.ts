// SYN cookies (net/tcp/syn-cookies.ts): with the half-open backlog full of a flood's
// spoofed SYNs, a real client still gets in (its SYN answered with a cookie, its ACK
// making the connection) and nothing is kept per flood SYN; forged and stale cookies get
// a RST and no connection.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { toIpv4 } from "../../../net/ip/address.js";
import { Listener } from "../../../net/tcp/listener.js";
import { ACK, RST, SYN } from "../../../net/tcp/segment.js";
import { SynCookies } from "../../../net/tcp/syn-cookies.js";
import { TCP } from "../../../net/tcp/tcp-socket.js";
import { craftSegment, tcpOf } from "./tcp-craft.js";
import { ADDRESS_A, ADDRESS_B, world, type World } from "./tcp-wire.js";

const A = toIpv4(ADDRESS_A);
const B = toIpv4(ADDRESS_B);

/** `count` SYNs from a spoofed source nobody has (its ARP is never answered). */
function flood(w: World, count: number, port = 80): void {
  const src = toIpv4("10.0.0.9");
  for (let i = 0; i < count; i++) {
    w.wire.a.onReadable!(craftSegment(w, src, A, { srcPort: 1024 + i, dstPort: port, seq: i * 7919, ack: 0, flags: SYN, window: 8192, mss: 1460, wscale: 7 }));
  }
}

test("cookies: the MSS step comes back; a changed field, a forged value or a stale slot does not check", () => {
  const c = new SynCookies([1, 2, 3, 4]);
  const now = 1_000_000;
  for (const [mss, step] of [[1460, 1460], [1459, 1440], [1300, 1220], [600, 536], [536, 536], [100, 536]] as const) {
    const cookie = c.make(now, A, 40000, 80, 12345, mss);
    assert.is(c.check(now + 1000, A, 40000, 80, 12345, cookie), step);
  }
  const cookie = c.make(now, A, 40000, 80, 12345, 1460);
  assert.is(c.check(now, B, 40000, 80, 12345, cookie), 0, "another address");
  assert.is(c.check(now, A, 40001, 80, 12345, cookie), 0, "another port");
  assert.is(c.check(now, A, 40000, 81, 12345, cookie), 0, "another local port");
  assert.is(c.check(now, A, 40000, 80, 12346, cookie), 0, "another peer ISN");
  assert.is(c.check(now, A, 40000, 80, 12345, cookie ^ 0x100), 0, "a flipped bit");
  assert.is(c.check(now + 64_000, A, 40000, 80, 12345, cookie), 1460, "the next slot still takes it");
  assert.is(c.check(now + 130_000, A, 40000, 80, 12345, cookie), 0, "two slots later it is stale");
});

test("SYN flood: the backlog stays full of spoofed half-opens, a real client gets in through a cookie and echoes", () => {
  const w = world(41, {}, { backlog: 4 });
  let server: TCP | undefined;
  const listener = new Listener({
    stack: w.a,
    port: 80,
    onReadable() {
      server = new TCP({ from: listener.read()!, onReadable: () => server!.write(server!.read()!) });
    },
  });
  flood(w, 500);
  assert.is(w.tcpA.active, 4, "only the backlog holds state");
  assert.is(w.tcpA.stats.synDropped, 496);
  assert.is(w.tcpA.stats.synCookiesSent, 496);
  const echoed: number[] = [];
  const client = new TCP({
    stack: w.b,
    address: ADDRESS_A,
    port: 80,
    onWritable() {
      if (echoed.length === 0) client.write(new Uint8Array(5000).map((_, i) => i & 0xff));
    },
    onReadable: () => echoed.push(...new Uint8Array(client.read()!)),
  });
  w.time.run(() => echoed.length === 5000, 900); // well before the half-opens' first SYN-ACK retry
  assert.is(echoed.length, 5000);
  assert.ok(echoed.every((b, i) => b === (i & 0xff)));
  assert.is(w.tcpA.stats.synCookiesAccepted, 1);
  assert.is(w.tcpA.active, 5, "4 half-open + the cookie connection");
  flood(w, 200); // more of it while the connection runs: still nothing kept
  assert.is(w.tcpA.active, 5);
  client.close();
  listener.close();
});

test("an ACK with a forged or stale cookie gets a RST and no connection", () => {
  const w = world(42, {}, { backlog: 0 }); // every SYN answered with a cookie
  const listener = new Listener({ stack: w.a, port: 80, onReadable: () => {} });
  const sent: ReturnType<typeof tcpOf>[] = [];
  w.wire.a.tap = (frame) => {
    const seg = tcpOf(frame);
    if (seg !== null && seg.dstPort === 5555) sent.push(seg);
  };
  const syn = (seq: number) => w.wire.a.onReadable!(craftSegment(w, B, A, { srcPort: 5555, dstPort: 80, seq, ack: 0, flags: SYN, window: 8192, mss: 1460, wscale: -1 }));
  const ack = (seq: number, ackNo: number) => w.wire.a.onReadable!(craftSegment(w, B, A, { srcPort: 5555, dstPort: 80, seq, ack: ackNo, flags: ACK, window: 8192, mss: -1, wscale: -1 }));
  syn(1000);
  w.time.advance(50); // ARP for B
  const synAck = sent.find((s) => s !== null && s.flags === (SYN | ACK));
  assert.ok(synAck !== undefined, "a SYN-ACK with a cookie");
  assert.is(synAck!.ack, 1001);
  assert.is(synAck!.wscale, -1, "no window scale: the cookie cannot keep the peer's");
  assert.is(synAck!.mss, 1460);
  assert.is(w.tcpA.active, 0, "nothing kept for the SYN");
  ack(1001, (synAck!.seq + 2) >>> 0); // forged: one off
  assert.is(w.tcpA.active, 0);
  assert.is(w.tcpA.stats.synCookiesAccepted, 0);
  assert.ok(sent.some((s) => s !== null && (s.flags & RST) !== 0), "RST for the forged ACK");
  w.time.advance(130_000);
  ack(1001, (synAck!.seq + 1) >>> 0); // the right cookie, two slots too late
  assert.is(w.tcpA.active, 0);
  assert.is(w.tcpA.stats.synCookiesAccepted, 0);
  syn(2000);
  w.time.advance(50);
  const fresh = sent.filter((s) => s !== null && s.flags === (SYN | ACK)).at(-1)!;
  ack(2001, (fresh.seq + 1) >>> 0);
  assert.is(w.tcpA.stats.synCookiesAccepted, 1);
  assert.is(w.tcpA.active, 1, "the fresh cookie makes the connection");
  listener.close();
});

test.run();
