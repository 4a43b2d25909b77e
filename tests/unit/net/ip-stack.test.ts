// The IPv4 layer over the virtio-net driver and the host model, against a scripted peer
// written in the test (QEMU's user network plays this part on QEMU): ARP both ways,
// IPv4 checks, ICMP echo, UDP through the ECMA-419-style socket, DHCP.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { ARP_REPLY, ARP_REQUEST, parseArp } from "../../../net/ip/arp.js";
import { formatIpv4, parseIpv4, prefixLength } from "../../../net/ip/address.js";
import { checksum } from "../../../net/ip/checksum.js";
import { buildDhcpReply, DhcpType, parseDhcpRequest } from "../../../net/ip/dhcp.js";
import { ArpTimeoutError, DhcpTimeoutError, PortInUseError, SocketClosedError } from "../../../net/ip/errors.js";
import { BROADCAST_MAC, buildEthernet, ETHERTYPE_IPV4, parseEthernet } from "../../../net/ip/ethernet.js";
import { IPV4_HLEN, PROTO_ICMP, parseIpv4Packet, writeIpv4Header } from "../../../net/ip/ipv4.js";
import { parseUdp } from "../../../net/ip/udp.js";
import { UdpSocket } from "../../../net/ip/udp-socket.js";
import type { VirtioNetModel } from "../../../platform/host/devices/net-device.js";
import { arpFrame, finishNet, netRig, OUR_IP, PEER_IP, PEER_MAC, udpFrame, until } from "./net-rig.js";

/** A scripted peer at 10.0.2.2: answers ARP for itself, serves DHCP if asked, records the rest. */
class Peer {
  readonly arpRequests: number[] = [];
  readonly arpReplies: { ip: number; mac: Uint8Array }[] = [];
  readonly udp: { src: number; dst: number; srcPort: number; dstPort: number; payload: Uint8Array }[] = [];
  readonly icmp: Uint8Array[] = [];
  readonly dhcp: number[] = [];
  answerArp = true;
  dhcpServer = false;
  nak = 0;
  leaseSeconds = 86400;

  handle(frame: Uint8Array, nic: VirtioNetModel): void {
    const eth = parseEthernet(frame)!;
    if (eth.type === 0x0806) {
      const p = parseArp(eth.payload)!;
      if (p.op === ARP_REQUEST) {
        this.arpRequests.push(p.targetIp);
        if (this.answerArp && p.targetIp === PEER_IP) nic.deliver(arpFrame(ARP_REPLY, PEER_MAC, PEER_IP, p.senderMac, p.senderIp, p.senderMac));
      } else this.arpReplies.push({ ip: p.senderIp, mac: p.senderMac });
      return;
    }
    const ip = parseIpv4Packet(eth.payload);
    if (typeof ip === "string") throw new Error(`guest sent a bad IPv4 packet: ${ip}`);
    if (ip.protocol === PROTO_ICMP) {
      this.icmp.push(ip.payload.slice());
      return;
    }
    const udp = parseUdp(ip.payload, ip.src, ip.dst);
    if (typeof udp === "string") throw new Error(`guest sent a bad UDP datagram: ${udp}`);
    if (udp.dstPort === 67 && this.dhcpServer) return this.#serveDhcp(udp.payload, eth.src, nic);
    this.udp.push({ src: ip.src, dst: ip.dst, srcPort: udp.srcPort, dstPort: udp.dstPort, payload: udp.payload.slice() });
  }

  #serveDhcp(payload: Uint8Array, clientMac: Uint8Array, nic: VirtioNetModel): void {
    const req = parseDhcpRequest(payload)!;
    this.dhcp.push(req.type);
    const ip = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
    const opts: [number, number[]][] = [[54, ip(PEER_IP)], [1, [255, 255, 255, 0]], [3, ip(PEER_IP)], [51, ip(this.leaseSeconds)]];
    let type: number = DhcpType.OFFER;
    if (req.type === DhcpType.REQUEST) {
      assert.is(req.requested, OUR_IP, "REQUEST names the offered address");
      assert.is(req.server, PEER_IP, "REQUEST names the server");
      type = this.nak-- > 0 ? DhcpType.NAK : DhcpType.ACK;
    }
    const reply = buildDhcpReply(payload, type, type === DhcpType.NAK ? 0 : OUR_IP, opts);
    nic.deliver(udpFrame(BROADCAST_MAC, PEER_MAC, PEER_IP, 0xffffffff, 67, 68, reply));
    assert.equal(payload.slice(28, 34), clientMac.slice(), "chaddr is the MAC the frames come from");
  }
}

async function stackRig(version: 1 | 2, ip: { address?: string; gateway?: string; dhcp?: { retryMs: number; attempts: number }; arpRetryMs?: number; arpAttempts?: number }) {
  const peer = new Peer();
  const r = await netRig(version, { peer: (frame, nic) => peer.handle(frame, nic) }, { ip });
  const stack = r.driver.interfaces()[0]!.stack!;
  return { r, peer, stack };
}

const STATIC = { address: "10.0.2.15", gateway: "10.0.2.2" };

test("addresses: parse, format, prefix length; checksum of a known header", () => {
  assert.is(parseIpv4("10.0.2.15"), 0x0a00020f);
  assert.is(parseIpv4("256.0.0.1"), null);
  assert.is(parseIpv4("1.2.3"), null);
  assert.is(formatIpv4(0xc0a80001), "192.168.0.1");
  assert.is(prefixLength(0xffffff00), 24);
  assert.is(prefixLength(0xff00ff00), -1);
  // RFC 1071 example-style header (Wikipedia's IPv4 header checksum example): 0xb861
  const h = Uint8Array.from([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
  assert.is(checksum(h), 0xb861);
});

for (const version of [1, 2] as const) {
  test(`v${version}: ARP: a request for our address is answered, others are not`, async () => {
    const { r, peer } = await stackRig(version, STATIC);
    r.nic.deliver(arpFrame(ARP_REQUEST, PEER_MAC, PEER_IP, new Uint8Array(6), 0x0a000263, BROADCAST_MAC));
    r.nic.deliver(arpFrame(ARP_REQUEST, PEER_MAC, PEER_IP, new Uint8Array(6), OUR_IP, BROADCAST_MAC));
    await until(() => peer.arpReplies.length === 1);
    await r.model.settle();
    assert.is(peer.arpReplies.length, 1);
    assert.is(peer.arpReplies[0]!.ip, OUR_IP);
    assert.equal(peer.arpReplies[0]!.mac, r.net.mac);
    await finishNet(r);
  });

  test(`v${version}: UDP echo through the socket: ARP resolves the peer, datagrams come back intact`, async () => {
    const { r, peer, stack } = await stackRig(version, STATIC);
    const socket = new UdpSocket({
      stack,
      port: 7,
      onReadable(count) {
        assert.is(count, 1);
        const d = socket.read()!;
        socket.write(d, d.address, d.port);
      },
    });
    const sizes = [1, 2, 100, 1000, 1472];
    for (const [i, n] of sizes.entries()) {
      const payload = Uint8Array.from({ length: n }, (_, k) => (k * 7 + i) & 255);
      r.nic.deliver(udpFrame(r.net.mac, PEER_MAC, PEER_IP, OUR_IP, 40000 + i, 7, payload));
    }
    await until(() => peer.udp.length === sizes.length);
    assert.equal(peer.arpRequests, [PEER_IP], "one ARP request for the peer; the rest waited for it");
    for (const [i, n] of sizes.entries()) {
      const d = peer.udp[i]!;
      assert.is(d.src, OUR_IP);
      assert.is(d.dst, PEER_IP);
      assert.is(d.srcPort, 7);
      assert.is(d.dstPort, 40000 + i);
      assert.equal(d.payload, Uint8Array.from({ length: n }, (_, k) => (k * 7 + i) & 255));
    }
    socket.close();
    await finishNet(r);
  });

  test(`v${version}: DHCP: DISCOVER, OFFER, REQUEST, ACK gives 10.0.2.15 via 10.0.2.2`, async () => {
    const { r, peer, stack } = await stackRig(version, { dhcp: { retryMs: 20, attempts: 10 } });
    peer.dhcpServer = true;
    await stack.whenConfigured(2000);
    assert.equal(peer.dhcp.slice(0, 2), [DhcpType.DISCOVER, DhcpType.REQUEST]);
    assert.is(formatIpv4(stack.address), "10.0.2.15");
    assert.is(formatIpv4(stack.gateway), "10.0.2.2");
    assert.is(formatIpv4(stack.netmask), "255.255.255.0");
    assert.is(stack.mode, "bound");
    assert.is(stack.dhcpLease!.leaseSeconds, 86400);
    await finishNet(r);
  });
}

test("DHCP: a NAK starts over; it still ends bound", async () => {
  const { r, peer, stack } = await stackRig(2, { dhcp: { retryMs: 20, attempts: 10 } });
  peer.dhcpServer = true;
  peer.nak = 1;
  await stack.whenConfigured(2000);
  assert.equal(peer.dhcp.slice(0, 4), [DhcpType.DISCOVER, DhcpType.REQUEST, DhcpType.DISCOVER, DhcpType.REQUEST]);
  assert.is(stack.address, OUR_IP);
  await finishNet(r);
});

test("DHCP: the lease is renewed at T1 (half of it); the address stays", async () => {
  const { r, peer, stack } = await stackRig(2, { dhcp: { retryMs: 20, attempts: 10 } });
  peer.dhcpServer = true;
  peer.leaseSeconds = 1;
  await stack.whenConfigured(2000);
  assert.equal(peer.dhcp, [DhcpType.DISCOVER, DhcpType.REQUEST]);
  await until(() => peer.dhcp.length === 4, 3000);
  await r.model.settle();
  assert.is(stack.stats.dhcpRenewals, 1);
  assert.is(stack.address, OUR_IP, "the same address after the renewal");
  assert.is(stack.mode, "bound");
  await finishNet(r);
});

test("DHCP: no server: a clear error after the attempts, no timer left", async () => {
  const { r, stack } = await stackRig(2, { dhcp: { retryMs: 5, attempts: 3 } });
  const errors: Error[] = [];
  stack.onError = (e) => errors.push(e);
  try {
    await stack.whenConfigured(2000);
    assert.unreachable("no address expected");
  } catch (error) {
    assert.instance(error, DhcpTimeoutError);
  }
  assert.is(stack.mode, "failed");
  assert.is(errors.length, 1);
  await finishNet(r);
});

test("ICMP: an echo request gets an echo reply with the same id, sequence and data", async () => {
  const { r, peer } = await stackRig(2, STATIC);
  const echo = Uint8Array.from([8, 0, 0, 0, 0x12, 0x34, 0, 1, 0xde, 0xad, 0xbe, 0xef]);
  const sum = checksum(echo);
  echo[2] = sum >>> 8;
  echo[3] = sum & 255;
  const frame = buildEthernet(r.net.mac, PEER_MAC, ETHERTYPE_IPV4, IPV4_HLEN + echo.length);
  writeIpv4Header(frame.subarray(14), PEER_IP, OUR_IP, PROTO_ICMP, echo.length, 1);
  frame.set(echo, 14 + IPV4_HLEN);
  r.nic.deliver(frame);
  await until(() => peer.icmp.length === 1);
  const reply = peer.icmp[0]!;
  assert.is(reply[0], 0, "echo reply");
  assert.equal([...reply.subarray(4)], [...echo.subarray(4)]);
  assert.is(checksum(reply), 0);
  await finishNet(r);
});

test("IPv4/UDP checks: zero UDP checksum accepted; bad UDP checksum, bad header checksum and fragments dropped", async () => {
  const { r, stack } = await stackRig(2, STATIC);
  const got: string[] = [];
  const socket = new UdpSocket({ stack, port: 9, onReadable: () => got.push(new TextDecoder().decode(socket.read()!)) });
  const send = (text: string, mutate: (f: Uint8Array) => void) => {
    const f = udpFrame(r.net.mac, PEER_MAC, PEER_IP, OUR_IP, 1234, 9, new TextEncoder().encode(text));
    mutate(f);
    r.nic.deliver(f);
  };
  send("zero-sum", (f) => void (f[14 + 20 + 6] = f[14 + 20 + 7] = 0));
  send("bad-sum", (f) => void (f[14 + 20 + 7]! ^= 1));
  send("bad-ip", (f) => void (f[14 + 10]! ^= 1));
  send("fragment", (f) => {
    f[14 + 6] = 0x20; // MF
    f[14 + 10] = f[14 + 11] = 0;
    const s = checksum(f.subarray(14, 34));
    f[14 + 10] = s >>> 8;
    f[14 + 11] = s & 255;
  });
  send("ok", () => {});
  await until(() => got.length === 2);
  await r.model.settle();
  assert.equal(got, ["zero-sum", "ok"]);
  assert.is(stack.stats.udpBadChecksum, 1);
  assert.is(stack.stats.ipBadChecksum, 1);
  assert.is(stack.stats.ipFragments, 1);
  socket.close();
  await finishNet(r);
});

test("ARP: no answer: retries, then the waiting packets are dropped with an error", async () => {
  const { r, peer, stack } = await stackRig(2, { ...STATIC, arpRetryMs: 5, arpAttempts: 3 });
  peer.answerArp = false;
  const errors: Error[] = [];
  stack.onError = (e) => errors.push(e);
  const socket = new UdpSocket({ stack });
  socket.write(new Uint8Array([1, 2, 3]), "10.0.2.2", 5000);
  await until(() => errors.length === 1);
  assert.instance(errors[0], ArpTimeoutError);
  assert.equal(peer.arpRequests, [PEER_IP, PEER_IP, PEER_IP]);
  assert.is(stack.stats.arpFailures, 1);
  socket.close();
  await finishNet(r);
});

test("UdpSocket: ECMA-419 shape: ephemeral port, port in use, size limit, close twice, throws after close", async () => {
  const { r, stack } = await stackRig(2, STATIC);
  const a = new UdpSocket({ stack, port: 5000 });
  assert.throws(() => new UdpSocket({ stack, port: 5000 }), (e: unknown) => e instanceof PortInUseError);
  const b = new UdpSocket({ stack });
  assert.ok(b.port >= 49152);
  assert.is(b.format, "buffer");
  assert.is(b.read(), undefined);
  assert.throws(() => b.write(new Uint8Array(1473), "10.0.2.2", 7), /at most 1472/);
  assert.throws(() => b.write(new Uint8Array(1), "10.0.2", 7), /not an IPv4 address/);
  a.close();
  a.close();
  assert.throws(() => a.read(), (e: unknown) => e instanceof SocketClosedError);
  assert.throws(() => a.write(new Uint8Array(1), "10.0.2.2", 7), (e: unknown) => e instanceof SocketClosedError);
  const c = new UdpSocket({ stack, port: 5000 });
  c.close();
  b.close();
  await finishNet(r);
});

test("static address with no gateway: off-subnet destinations are refused", async () => {
  const { r, stack } = await stackRig(2, { address: "10.0.2.15" });
  const s = new UdpSocket({ stack });
  assert.throws(() => s.write(new Uint8Array(1), "8.8.8.8", 53), /no route to 8.8.8.8/);
  s.close();
  await finishNet(r);
});


test.run();
