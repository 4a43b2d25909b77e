// ARP resolution is bounded in next hops: echo requests from many (spoofed) on-link
// sources do not make the stack hold packets, timers and ARP broadcasts for each.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checksum } from "../../../net/ip/checksum.js";
import { buildEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, parseEthernet } from "../../../net/ip/ethernet.js";
import { IPV4_HLEN, PROTO_ICMP, writeIpv4Header } from "../../../net/ip/ipv4.js";
import { IpStack, } from "../../../net/ip/ip-stack.js";
import type { Nic } from "../../../net/nic.js";
import { NoRouteError } from "../../../net/ip/errors.js";
import { OUR_IP, PEER_MAC } from "./net-rig.js";

const OUR_MAC = new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x56]);

function setup(arpPendingHops?: number) {
  const sent: Uint8Array[] = [];
  let timers = 0;
  const link: Nic = { mac: OUR_MAC, mtu: 1500, linkUp: true, onReadable: null, onLinkChange: null, write: (f) => void sent.push(f.slice()) };
  const env = { timers: { set: () => ++timers, repeat: () => ++timers, clear: () => {} }, clock: { now: () => 0 } };
  const stack = new IpStack(link, { address: "10.0.2.15", netmask: "255.255.0.0", arpPendingHops }, env);
  return { stack, sent, timers: () => timers };
}

function echoFrom(src: number): Uint8Array {
  const echo = Uint8Array.from([8, 0, 0, 0, 0, 1, 0, 1]);
  const sum = checksum(echo);
  echo[2] = sum >>> 8;
  echo[3] = sum & 255;
  const frame = buildEthernet(OUR_MAC, PEER_MAC, ETHERTYPE_IPV4, IPV4_HLEN + echo.length);
  writeIpv4Header(frame.subarray(14), src, OUR_IP, PROTO_ICMP, echo.length, 1);
  frame.set(echo, 14 + IPV4_HLEN);
  return frame;
}

test("echo requests from 500 unresolved sources: at most 16 next hops wait for ARP", () => {
  const { stack, sent, timers } = setup();
  for (let i = 0; i < 500; i++) stack.receive(echoFrom(0x0a001001 + i)); // 10.0.16.1 on: on-link, none ours
  const arps = sent.filter((f) => parseEthernet(f)!.type === ETHERTYPE_ARP).length;
  assert.is(arps, 16, "one ARP request per waiting hop");
  assert.is(timers(), 16, "one retry timer per waiting hop");
  assert.is(stack.stats.icmpEchoes, 500);
  assert.is(stack.stats.txErrors, 500 - 16, "the replies beyond are counted, not held");
});

test("sendUdp to one hop too many: NoRouteError; the option sets the bound", () => {
  const { stack } = setup(2);
  stack.sendUdp(1000, 0x0a000101, 7, Uint8Array.of(1));
  stack.sendUdp(1000, 0x0a000102, 7, Uint8Array.of(1));
  stack.sendUdp(1000, 0x0a000102, 7, Uint8Array.of(2)); // same hop: queued behind the first
  assert.throws(() => stack.sendUdp(1000, 0x0a000103, 7, Uint8Array.of(1)), (e: unknown) => e instanceof NoRouteError);
});

test.run();
