// The DHCP client believes only a sane ACK (RFC 2131 §4.3.1, §4.4.1; RFC 1122 §3.2.1.3):
// for the address it was offered and requested, from the server it chose, with a host
// address and a contiguous netmask. Anything else is ignored and the client keeps waiting.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DhcpClient, DhcpType, buildDhcpReply, parseDhcpRequest, type DhcpLease } from "../../../net/ip/dhcp.js";
import type { TimerCallback } from "../../../platform/platform.js";

const MAC = new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
const ip = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const octets = (v: number): number[] => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const OFFERED = ip(10, 0, 2, 15);
const SERVER = ip(10, 0, 2, 2);

/** A client with a fake host: timers that never fire on their own, messages recorded. */
function client(): { dhcp: DhcpClient; sent: Uint8Array[]; lease: Promise<DhcpLease | string> } {
  const sent: Uint8Array[] = [];
  const timers = new Map<number, TimerCallback>();
  let next = 1;
  const dhcp = new DhcpClient({
    mac: MAC,
    clock: { now: () => 0 },
    timers: {
      set: (cb) => (timers.set(next, cb), next++),
      repeat: (cb) => (timers.set(next, cb), next++),
      clear: (id) => void timers.delete(id),
    },
    broadcast: (payload) => void sent.push(payload.slice()),
  });
  const lease = dhcp.run().then(
    (l) => l,
    (e: Error) => e.message,
  );
  return { dhcp, sent, lease };
}

/** DISCOVER -> OFFER of 10.0.2.15 from 10.0.2.2: the client is then requesting. */
function offered(): ReturnType<typeof client> {
  const c = client();
  c.dhcp.receive(buildDhcpReply(c.sent[0]!, DhcpType.OFFER, OFFERED, [[54, octets(SERVER)]]));
  assert.is(c.dhcp.state, "requesting");
  assert.is(parseDhcpRequest(c.sent[1]!)!.type, DhcpType.REQUEST);
  return c;
}

const ack = (c: ReturnType<typeof client>, yiaddr: number, options: [number, number[]][]): void =>
  c.dhcp.receive(buildDhcpReply(c.sent[1]!, DhcpType.ACK, yiaddr, options));

const GOOD: [number, number[]][] = [[54, octets(SERVER)], [1, [255, 255, 255, 0]], [3, octets(SERVER)], [51, [0, 1, 0x51, 0x80]]];

test("a sane ACK binds", async () => {
  const c = offered();
  ack(c, OFFERED, GOOD);
  assert.is(c.dhcp.state, "bound");
  const lease = (await c.lease) as DhcpLease;
  assert.equal([lease.address, lease.netmask, lease.gateway, lease.server, lease.leaseSeconds], [OFFERED, 0xffffff00, SERVER, SERVER, 86400]);
});

const bad: [string, number, [number, number[]][]][] = [
  ["yiaddr 0.0.0.0", 0, GOOD],
  ["yiaddr other than the one offered", ip(10, 0, 2, 99), GOOD],
  ["an ACK from another server", OFFERED, [[54, octets(ip(10, 0, 2, 3))], [1, [255, 255, 255, 0]]]],
  ["a non-contiguous netmask", OFFERED, [[54, octets(SERVER)], [1, [255, 0, 255, 0]]]],
  ["netmask 0.0.0.0 (everything on-link)", OFFERED, [[54, octets(SERVER)], [1, [0, 0, 0, 0]]]],
  ["netmask /32", OFFERED, [[54, octets(SERVER)], [1, [255, 255, 255, 255]]]],
  ["the address is the subnet's broadcast", OFFERED, [[54, octets(SERVER)], [1, [255, 255, 255, 240]]]],
];
for (const [what, yiaddr, options] of bad) {
  test(`ignored: ${what}`, () => {
    const c = offered();
    const ignored = c.dhcp.ignored;
    ack(c, yiaddr, options);
    assert.is(c.dhcp.state, "requesting", "still waiting for a good ACK");
    assert.is(c.dhcp.lease, null);
    assert.is(c.dhcp.ignored, ignored + 1);
    ack(c, OFFERED, GOOD);
    assert.is(c.dhcp.state, "bound", "a good ACK after it still binds");
  });
}

for (const [what, yiaddr] of [["broadcast", 0xffffffff], ["multicast", ip(224, 0, 0, 1)], ["loopback", ip(127, 0, 0, 1)], ["0.x", ip(0, 1, 2, 3)]] as const) {
  test(`an OFFER of a ${what} address is ignored`, () => {
    const c = client();
    c.dhcp.receive(buildDhcpReply(c.sent[0]!, DhcpType.OFFER, yiaddr, [[54, octets(SERVER)]]));
    assert.is(c.dhcp.state, "selecting");
    assert.is(c.sent.length, 1, "no REQUEST for it");
  });
}

test("a router off the subnet or not a host address is left out of the lease", async () => {
  for (const router of [ip(192, 168, 1, 1), ip(10, 0, 2, 255), OFFERED]) {
    const c = offered();
    ack(c, OFFERED, [[54, octets(SERVER)], [1, [255, 255, 255, 0]], [3, octets(router)]]);
    const lease = (await c.lease) as DhcpLease;
    assert.is(lease.gateway, 0, `router ${router.toString(16)}`);
  }
});

test.run();
