// The clients on the virtual wire: ping (echo request/reply, timeout), ICMP port
// unreachable for a closed UDP port (rate-limited), the DNS resolver against a scripted
// server (answer, NXDOMAIN, lost queries retried, wrong IDs ignored, cache), the HTTP
// client against the HTTP server (content-length, chunked, keep-alive reuse).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { DnsResolver } from "../../../net/dns/resolver.js";
import { HttpClient } from "../../../net/http/client.js";
import { HttpServer } from "../../../net/http/server.js";
import { ping, PingTimeoutError } from "../../../net/ip/ping.js";
import { UdpSocket } from "../../../net/ip/udp-socket.js";
import { ADDRESS_B, world, type World } from "./tcp-wire.js";

test("ping: a reply with the round trip; a silent host times out", async () => {
  const w = world(50, { delayMs: 5 });
  const p = ping(w.a, ADDRESS_B, { size: 100 });
  for (let i = 0; i < 5 && w.a.stats.icmpEchoRepliesReceived === 0; i++) w.time.advance(20);
  const reply = await p;
  assert.is(reply.address, ADDRESS_B);
  assert.is(reply.bytes, 100);
  assert.ok(reply.rttMs >= 10 && reply.rttMs < 30, String(reply.rttMs));
  w.wire.impair = { drop: () => true };
  const lost = ping(w.a, ADDRESS_B, { timeoutMs: 500 });
  w.time.advance(600);
  await lost.then(() => assert.unreachable(), (e) => assert.instance(e, PingTimeoutError));
});

test("UDP to a closed port gets ICMP port unreachable, at most 10 a second", () => {
  const w = world(51);
  const s = new UdpSocket({ stack: w.a, port: 5000 });
  s.write(new Uint8Array([0]), ADDRESS_B, 9); // ARP first (16 datagrams wait for it at most)
  w.time.advance(50);
  for (let i = 1; i < 30; i++) s.write(new Uint8Array([i]), ADDRESS_B, 9);
  w.time.advance(100);
  assert.is(w.b.stats.udpNoPort, 30);
  assert.is(w.b.stats.icmpUnreachableSent, 10);
  s.close();
});

/** A DNS server on `w.b` port 53: answers `names`, NXDOMAIN otherwise; `drop` first queries lost. */
function dnsServer(w: World, names: Record<string, string>, opts: { drop?: number; wrongId?: boolean } = {}) {
  let seen = 0;
  const sock = new UdpSocket({
    stack: w.b,
    port: 53,
    onReadable() {
      for (let d = sock.read(); d !== undefined; d = sock.read()) {
        const q = new Uint8Array(d);
        if (seen++ < (opts.drop ?? 0)) continue;
        let i = 12;
        const labels: string[] = [];
        while (q[i] !== 0) {
          labels.push(String.fromCharCode(...q.subarray(i + 1, i + 1 + q[i]!)));
          i += 1 + q[i]!;
        }
        const qEnd = i + 5;
        const name = labels.join(".");
        const address = names[name];
        const answer = address === undefined ? new Uint8Array(0) : new Uint8Array([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...address.split(".").map(Number)]);
        const r = new Uint8Array(qEnd + answer.length);
        r.set(q.subarray(0, qEnd));
        if (opts.wrongId === true) r[0] ^= 0xff;
        r[2] = 0x81;
        r[3] = address === undefined ? 0x83 : 0x80;
        r[7] = address === undefined ? 0 : 1;
        r.set(answer, qEnd);
        sock.write(r, d.address, d.port);
      }
    },
  });
  return sock;
}

function resolveSync(w: World, r: DnsResolver, host: string, ms = 10_000): { address?: string; error?: Error } {
  const out: { address?: string; error?: Error } = {};
  r.resolve({ host, onResolved: (_h, a) => (out.address = a), onError: (e) => (out.error = e) });
  w.time.run(() => out.address !== undefined || out.error !== undefined, ms);
  return out;
}

test("DNS: an A record, NXDOMAIN, retries after lost queries, the cache", () => {
  const w = world(52);
  dnsServer(w, { "fw.example": "10.0.0.77" }, { drop: 2 });
  const r = new DnsResolver({ stack: w.a, servers: [ADDRESS_B], timeoutMs: 500, attempts: 4 });
  assert.equal(resolveSync(w, r, "fw.example"), { address: "10.0.0.77" });
  assert.is(r.stats.queries, 3); // two lost, the third answered
  assert.equal(resolveSync(w, r, "FW.example"), { address: "10.0.0.77" });
  assert.is(r.stats.cacheHits, 1);
  const missing = resolveSync(w, r, "nothing.example");
  assert.match(missing.error!.message, /no such name/);
  assert.equal(resolveSync(w, r, "10.1.2.3"), { address: "10.1.2.3" });
  assert.throws(() => r.resolve({ host: "bad..name", onResolved() {} }), RangeError);
  r.close();
});

test("DNS: answers with a wrong ID are ignored; no answer fails after the attempts", () => {
  const w = world(53);
  dnsServer(w, { "a.example": "10.0.0.5" }, { wrongId: true });
  const r = new DnsResolver({ stack: w.a, servers: [ADDRESS_B], timeoutMs: 300, attempts: 3 });
  const res = resolveSync(w, r, "a.example");
  assert.match(res.error!.message, /no answer after 3 queries/);
  assert.is(r.stats.mismatched, 3);
  r.close();
});

test("HTTP client: content-length and chunked bodies, two requests on one kept-alive connection", () => {
  const w = world(54, { delayMs: 2 });
  const big = "y".repeat(50_000);
  new HttpServer({ stack: w.b, port: 80, handler: (req) => (req.target === "/chunked" ? { body: big, chunked: true } : { body: `hello ${req.target}` }) });
  const client = new HttpClient({ stack: w.a, host: ADDRESS_B });
  const results: { status: number; body: string; error: Error | null }[] = [];
  for (const path of ["/one", "/chunked"]) {
    const res = { status: 0, body: "", error: null as Error | null };
    client.request({
      path,
      onHeaders: (s) => (res.status = s),
      onReadable() {
        for (let b = client.read(); b !== undefined; b = client.read()) res.body += String.fromCharCode(...new Uint8Array(b));
      },
      onDone(e) {
        res.error = e;
        results.push(res);
      },
    });
  }
  w.time.run(() => results.length === 2, 20_000);
  assert.is(results.length, 2);
  assert.equal(results[0], { status: 200, body: "hello /one", error: null });
  assert.is(results[1]!.status, 200);
  assert.is(results[1]!.error, null);
  assert.is(results[1]!.body.length, 50_000);
  assert.is(client.stats.connections, 1);
  client.close();
});

test.run();
