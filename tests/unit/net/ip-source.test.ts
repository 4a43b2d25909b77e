// Source address checks (RFC 1122 §3.2.1.3): packets from a source no host can have are
// dropped (no echo reply to a broadcast or multicast address, nothing delivered), and ARP
// never caches such an address. The stack runs over a recording link, no device.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ARP_REQUEST } from "../../../net/ip/arp.js";
import { checksum } from "../../../net/ip/checksum.js";
import { buildEthernet, ETHERTYPE_IPV4, parseEthernet } from "../../../net/ip/ethernet.js";
import { IPV4_HLEN, PROTO_ICMP, writeIpv4Header } from "../../../net/ip/ipv4.js";
import { IpStack, } from "../../../net/ip/ip-stack.js";
import type { Nic } from "../../../net/nic.js";
import { UdpSocket } from "../../../net/ip/udp-socket.js";
import { arpFrame, OUR_IP, PEER_IP, PEER_MAC, udpFrame } from "./net-rig.js";

const OUR_MAC = new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x56]);

function stack(): { stack: IpStack; sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const link: Nic = { mac: OUR_MAC, mtu: 1500, linkUp: true, onReadable: null, onLinkChange: null, write: (f) => void sent.push(f.slice()) };
  const timers = { set: () => 1, repeat: () => 1, clear: () => {} };
  const s = new IpStack(link, { address: "10.0.2.15", gateway: "10.0.2.2" }, { timers, clock: { now: () => 0 } });
  return { stack: s, sent };
}

function echoFrom(src: number): Uint8Array {
  const echo = Uint8Array.from([8, 0, 0, 0, 0x12, 0x34, 0, 1, 1, 2, 3, 4]);
  const sum = checksum(echo);
  echo[2] = sum >>> 8;
  echo[3] = sum & 255;
  const frame = buildEthernet(OUR_MAC, PEER_MAC, ETHERTYPE_IPV4, IPV4_HLEN + echo.length);
  writeIpv4Header(frame.subarray(14), src, OUR_IP, PROTO_ICMP, echo.length, 1);
  frame.set(echo, 14 + IPV4_HLEN);
  return frame;
}

const BAD_SOURCES: [string, number][] = [
  ["255.255.255.255", 0xffffffff],
  ["the subnet broadcast 10.0.2.255", 0x0a0002ff],
  ["multicast 224.0.0.1", 0xe0000001],
  ["0.0.0.0", 0],
  ["loopback 127.0.0.1", 0x7f000001],
  ["our own address", OUR_IP],
];

for (const [what, src] of BAD_SOURCES) {
  test(`an echo request from ${what} gets no reply`, () => {
    const { stack: s, sent } = stack();
    s.receive(echoFrom(src));
    assert.is(sent.length, 0);
    assert.is(s.stats.ipBadSource, 1);
    assert.is(s.stats.icmpEchoes, 0);
  });
}

test("an echo request from a host gets its reply (the check lets peers through)", () => {
  const { stack: s, sent } = stack();
  s.receive(arpFrame(2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP, OUR_MAC)); // learn the peer first
  s.receive(echoFrom(PEER_IP));
  assert.is(s.stats.icmpEchoes, 1);
  assert.is(sent.length, 1);
  assert.equal(parseEthernet(sent[0]!)!.dst, PEER_MAC);
});

test("a UDP datagram from a broadcast source is not delivered", () => {
  const { stack: s } = stack();
  const got: unknown[] = [];
  const socket = new UdpSocket({ stack: s, port: 9, onReadable: () => got.push(socket.read()) });
  s.receive(udpFrame(OUR_MAC, PEER_MAC, 0xffffffff, OUR_IP, 1234, 9, Uint8Array.of(1)));
  s.receive(udpFrame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, 1234, 9, Uint8Array.of(2)));
  assert.is(got.length, 1);
  assert.is(s.stats.ipBadSource, 1);
  socket.close();
});

test("ARP: a request for us from a broadcast, multicast or our own address is not cached", () => {
  const { stack: s } = stack();
  for (const src of [0xffffffff, 0xe0000001, OUR_IP, 0x0a0002ff]) {
    s.receive(arpFrame(ARP_REQUEST, PEER_MAC, src, new Uint8Array(6), OUR_IP, OUR_MAC));
  }
  assert.equal(s.arpEntries(), []);
  s.receive(arpFrame(ARP_REQUEST, PEER_MAC, PEER_IP, new Uint8Array(6), OUR_IP, OUR_MAC));
  assert.equal(s.arpEntries().map(([ip]) => ip), ["10.0.2.2"]);
});

test("ARP: a request for us from a broadcast or multicast MAC gets no reply; from a unicast one it does", () => {
  const { stack: s, sent } = stack();
  for (const mac of [new Uint8Array(6).fill(0xff), Uint8Array.of(0x01, 0, 0x5e, 0, 0, 1)]) {
    s.receive(arpFrame(ARP_REQUEST, mac, PEER_IP, new Uint8Array(6), OUR_IP, OUR_MAC));
  }
  assert.is(sent.length, 0);
  s.receive(arpFrame(ARP_REQUEST, PEER_MAC, PEER_IP, new Uint8Array(6), OUR_IP, OUR_MAC));
  assert.is(sent.length, 1);
  assert.equal(parseEthernet(sent[0]!)!.dst, PEER_MAC);
});

test.run();
