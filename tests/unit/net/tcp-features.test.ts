// TCP mechanisms one by one, on the virtual wire: fast retransmit, RTO back-off and
// give-up, zero-window probes, keep-alive, SYN flood bounds, accept queue bound, delayed
// ACK timing, window scaling, MSS, RST acceptance (RFC 5961).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConnectionResetError, ConnectionTimeoutError } from "../../../net/tcp/errors.js";
import { Listener } from "../../../net/tcp/listener.js";
import { ACK, RST, SYN } from "../../../net/tcp/segment.js";
import { TCP } from "../../../net/tcp/tcp-socket.js";
import { echoTransfer } from "./tcp-echo-rig.js";
import { ADDRESS_A, ADDRESS_B, world, type World } from "./tcp-wire.js";
import { craftSegment, tcpOf } from "./tcp-craft.js";
import { toIpv4 } from "../../../net/ip/address.js";

/** A connection a -> b on port 7 with the server side taken; returns both sockets. */
function connected(w: World, opts: { nodelay?: boolean } = {}): { client: TCP; server: TCP; listener: Listener } {
  let server: TCP | undefined;
  const listener = new Listener({ stack: w.b, port: 7, onReadable: () => (server = listener.read()) });
  const client = new TCP({ stack: w.a, address: ADDRESS_B, port: 7, ...opts });
  assert.ok(w.time.run(() => server !== undefined, 5000), "connected");
  return { client, server: server!, listener };
}

test("fast retransmit: one lost segment is resent on the third duplicate ACK, no timeout", () => {
  let dataSeen = 0;
  const w = world(20, {
    drop: (frame, from) => {
      const seg = tcpOf(frame);
      if (from !== w.wire.a || seg === null || seg.payload.length === 0) return false;
      return ++dataSeen === 6; // the 6th data segment, once
    },
  });
  const res = echoTransfer(w, 100_000, 20);
  assert.ok(res.done && res.closed, JSON.stringify(res));
  assert.is(res.clientMismatch, -1);
  assert.ok(w.tcpA.stats.fastRetransmits >= 1, JSON.stringify(w.tcpA.stats));
  assert.is(w.tcpA.stats.retransmitTimeouts, 0);
});

test("RTO (RFC 6298): resends back off 1, 2, 4, 8 s; the connection gives up after maxRetries", () => {
  const w = world(21, {}, { maxRetries: 4 });
  const { client } = connected(w);
  const resends: number[] = [];
  let error: Error | null = null;
  client.onError = (e) => (error = e);
  w.wire.impair = { drop: () => true }; // the wire goes dead
  w.wire.a.tap = (frame) => {
    const seg = tcpOf(frame);
    if (seg !== null && seg.payload.length > 0) resends.push(w.time.now());
  };
  client.write(new Uint8Array(100));
  w.time.run(() => error !== null, 120_000);
  assert.instance(error, ConnectionTimeoutError);
  const gaps = resends.slice(1).map((t, i) => Math.round((t - resends[i]!) / 100) / 10);
  assert.equal(gaps, [1, 2, 4, 8], `resends at ${resends.join(", ")}`); // initial RTO 1 s, doubled
  assert.is(w.tcpA.active, 0);
});

test("RTT estimate: SRTT follows the wire's delay; RTO stays at the 1 s floor", () => {
  const w = world(22, { delayMs: 30 });
  echoTransfer(w, 50_000, 22);
  // a finished connection is gone: measure on a new one
  const { client } = connected(w);
  client.write(new Uint8Array(1000));
  w.time.advance(500);
  const conn = w.tcpA.connections().find((c) => c.state === "ESTABLISHED")!;
  assert.ok(conn.rto.srtt >= 60 && conn.rto.srtt < 200, `srtt ${conn.rto.srtt}`);
  assert.is(conn.rto.rto, 1000);
});

test("zero window: the sender probes while the reader sleeps, then everything arrives", () => {
  const w = world(23);
  const { client, server } = connected(w);
  let sent = 0;
  const fill = (): void => {
    while (sent < 40_000 && client.writable > 0) {
      const n = Math.min(client.writable, 40_000 - sent);
      client.write(new Uint8Array(n).fill(sent & 0xff));
      sent += n;
    }
  };
  client.onWritable = fill;
  fill();
  w.time.advance(30_000);
  assert.is(server.readable, 16384); // the receive buffer is full: window 0
  const conn = w.tcpA.connections()[0]!;
  assert.is(conn.sndWnd, 0);
  assert.ok(w.tcpA.stats.windowProbes >= 2, JSON.stringify(w.tcpA.stats));
  let got = 0;
  server.onReadable = () => {
    for (let b = server.read(); b !== undefined; b = server.read()) got += b.byteLength;
  };
  server.onReadable(server.readable);
  assert.ok(w.time.run(() => got === 40_000, 120_000), `got ${got}`);
});

test("keep-alive: probes keep an idle connection; a dead peer is dropped after the probes", () => {
  const w = world(24, {}, { keepAliveIdleMs: 10_000, keepAliveIntervalMs: 1000, keepAliveProbes: 3 });
  const { client } = connected(w);
  let error: Error | null = null;
  client.onError = (e) => (error = e);
  w.time.advance(60_000);
  assert.is(error, null);
  assert.ok(w.tcpA.stats.keepAlives >= 5, JSON.stringify(w.tcpA.stats));
  w.wire.impair = { drop: () => true };
  w.time.run(() => error !== null, 60_000);
  assert.instance(error, ConnectionTimeoutError);
  assert.match((error as unknown as Error).message, /keep-alive/);
});

test("SYN flood: the half-open backlog stays bounded, SYNs beyond are dropped; a real client gets in afterwards", () => {
  const w = world(25, {}, { backlog: 4, synRetries: 2 });
  const listener = new Listener({ stack: w.a, port: 80, onReadable: () => {} });
  const spoofed = toIpv4("10.0.0.9"); // nobody: its ARP is never answered
  for (let i = 0; i < 500; i++) {
    w.wire.a.onReadable!(craftSegment(w, spoofed, toIpv4(ADDRESS_A), { srcPort: 1024 + i, dstPort: 80, seq: i * 1000, ack: 0, flags: SYN, window: 8192, mss: 1460, wscale: -1 }));
  }
  assert.is(w.tcpA.active, 4);
  assert.is(w.tcpA.stats.synDropped, 496);
  w.time.advance(10_000); // SYN-ACKs: 1 + 2 + 4 s, then the half-open ones go
  assert.is(w.tcpA.active, 0);
  let accepted = 0;
  listener.onReadable = () => {
    listener.read();
    accepted++;
  };
  new TCP({ stack: w.b, address: ADDRESS_A, port: 80 });
  w.time.run(() => accepted === 1, 5000);
  assert.is(accepted, 1);
  listener.close();
});

test("accept queue: connections beyond acceptQueue are reset", () => {
  const w = world(26, {}, { acceptQueue: 2 });
  const listener = new Listener({ stack: w.b, port: 80 });
  const errors: string[] = [];
  for (let i = 0; i < 4; i++) new TCP({ stack: w.a, address: ADDRESS_B, port: 80, onError: (e) => errors.push(e.name) });
  w.time.advance(3000);
  assert.is(listener.readable, 2);
  assert.is(w.tcpB.stats.acceptOverflows, 2);
  assert.equal(errors, ["ConnectionResetError", "ConnectionResetError"]);
  listener.close(); // resets the two waiting
  w.time.advance(1000);
  assert.is(w.tcpB.active, 0);
});

test("delayed ACK: a lone segment is acknowledged after the delay, two full ones at once", () => {
  const w = world(27, { delayMs: 1 }, { delayedAckMs: 100 });
  const { client } = connected(w, { nodelay: true });
  const acks: number[] = [];
  w.wire.b.tap = (frame) => {
    const seg = tcpOf(frame);
    if (seg !== null && seg.payload.length === 0 && (seg.flags & ACK) !== 0) acks.push(w.time.now());
  };
  const t0 = w.time.now();
  client.write(new Uint8Array(10));
  w.time.advance(500);
  assert.is(acks.length, 1);
  assert.ok(acks[0]! - t0 >= 100 && acks[0]! - t0 < 110, `ACK after ${acks[0]! - t0} ms`);
  acks.length = 0;
  const t1 = w.time.now();
  client.write(new Uint8Array(2920));
  w.time.advance(50);
  assert.is(acks.length, 1);
  assert.ok(acks[0]! - t1 < 10, `ACK after ${acks[0]! - t1} ms`);
});

test("window scaling (RFC 7323): 256 KiB buffers use shift 3 (2^18 / 2^3 fits 16 bits); windows beyond 64 KiB carry 1 MB", () => {
  const w = world(28, { delayMs: 5 }, { receiveBuffer: 262144, sendBuffer: 262144 });
  let peak = 0;
  w.wire.a.tap = () => {
    const c = w.tcpA.connections()[0];
    if (c !== undefined) peak = Math.max(peak, c.sndWnd);
  };
  const res = echoTransfer(w, 1_000_000, 28);
  assert.ok(res.done && res.clientMismatch === -1);
  assert.ok(peak > 65535, `peak send window ${peak}`);
  const { client } = connected(w);
  const conn = w.tcpA.connections().find((c) => c.localPort === client.port)!;
  assert.is(conn.sndScale, 3);
  assert.is(conn.rcvScale, 3);
});

test("MSS: a peer with MTU 576 announces 536; every segment to it fits", () => {
  const w = world(29);
  w.wire.b.mtu = 576;
  let biggest = 0;
  w.wire.a.tap = (frame) => {
    biggest = Math.max(biggest, frame.length - 14);
  };
  const res = echoTransfer(w, 20_000, 29);
  assert.ok(res.done && res.clientMismatch === -1);
  assert.is(biggest, 576);
});

test("RST (RFC 5961): in the window but not exact gets a challenge ACK; exact resets", () => {
  const w = world(30);
  const { client } = connected(w);
  let error: Error | null = null;
  client.onError = (e) => (error = e);
  const conn = w.tcpA.connections()[0]!;
  const fields = { srcPort: 7, dstPort: client.port!, ack: 0, flags: RST, window: 0, mss: -1, wscale: -1 };
  let challenged = 0;
  w.wire.a.tap = (frame) => {
    const seg = tcpOf(frame);
    if (seg !== null && (seg.flags & ACK) !== 0 && seg.payload.length === 0) challenged++;
  };
  w.wire.a.onReadable!(craftSegment(w, toIpv4(ADDRESS_B), toIpv4(ADDRESS_A), { ...fields, seq: (conn.rcvNxt + 100) >>> 0 }));
  assert.is(error, null);
  assert.is(challenged, 1);
  w.wire.a.onReadable!(craftSegment(w, toIpv4(ADDRESS_B), toIpv4(ADDRESS_A), { ...fields, seq: (conn.rcvNxt + 100000) >>> 0 }));
  assert.is(error, null); // outside the window: ignored
  w.wire.a.onReadable!(craftSegment(w, toIpv4(ADDRESS_B), toIpv4(ADDRESS_A), { ...fields, seq: conn.rcvNxt }));
  assert.instance(error, ConnectionResetError);
  assert.is(w.tcpA.active, 0);
});

test.run();
