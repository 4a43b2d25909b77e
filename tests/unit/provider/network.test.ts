// device.io.UDP and device.network.ethernet on the host model's virtio-net (static
// 10.0.2.15): the IO class rules (options checked before the port is bound, format,
// target, onReadable(count) / onWritable(count), read() and read(buffer), close twice,
// methods after close) and an echo; the interface's MAC, link and address, onChanged.

import { test } from "uvu";
import * as assert from "uvu/assert";
import device from "../../../apps/provider/builtin.js";
import { UDP_MAX_PAYLOAD } from "../../../net/ip/udp-socket.js";
import { PortInUseError, SocketClosedError } from "../../../net/ip/errors.js";
import { EthernetClosedError } from "../../../apps/provider/ethernet.js";
import { parseEthernet } from "../../../net/ip/ethernet.js";
import { parseIpv4Packet } from "../../../net/ip/ipv4.js";
import { parseUdp } from "../../../net/ip/udp.js";
import { arpFrame, PEER_IP, PEER_MAC, udpFrame, OUR_IP, until } from "../net/net-rig.js";
import { ARP_REPLY } from "../../../net/ip/arp.js";
import { finishProvider, GUEST_IP, providerRig } from "./provider-rig.js";

test("UDP: onWritable once after open, datagrams as onReadable(count), read() and read(buffer), echo", async () => {
  const r = await providerRig();
  const mac = r.context.drivers.net.devices()[0]!.mac;
  const writable: number[] = [];
  const readable: number[] = [];
  const target = {};
  const socket = new device.io.UDP({
    port: 7,
    target,
    onWritable(count) {
      writable.push(count);
    },
    onReadable(count) {
      assert.is(this, socket);
      readable.push(count);
    },
  });
  assert.is(socket.target, target);
  assert.is(socket.port, 7);
  assert.is(socket.format, "buffer");
  assert.equal(writable, []);
  await r.model.settle();
  assert.equal(writable, [UDP_MAX_PAYLOAD]);
  r.nic.deliver(udpFrame(mac, PEER_MAC, PEER_IP, OUR_IP, 4000, 7, new TextEncoder().encode("one")));
  r.nic.deliver(udpFrame(mac, PEER_MAC, PEER_IP, OUR_IP, 4000, 7, new TextEncoder().encode("two!")));
  await r.model.settle();
  assert.equal(readable, [1, 2]);
  const first = socket.read()!;
  assert.is(new TextDecoder().decode(first), "one");
  assert.is(first.address, "10.0.2.2");
  assert.is(first.port, 4000);
  const small = new Uint8Array(3);
  assert.is(socket.read(small), 3, "cut to the buffer");
  assert.is(new TextDecoder().decode(small), "two");
  assert.is(socket.read(), undefined);
  r.nic.deliver(arpFrame(ARP_REPLY, PEER_MAC, PEER_IP, mac, OUR_IP, mac)); // the peer's MAC, for the reply
  await r.model.settle();
  socket.write(new TextEncoder().encode("back"), "10.0.2.2", 4000);
  await until(() => r.nic.transmitted.length > 0);
  const eth = parseEthernet(r.nic.transmitted.at(-1)!)!;
  const ip = parseIpv4Packet(eth.payload);
  assert.ok(typeof ip !== "string");
  const udp = parseUdp(ip.payload, ip.src, ip.dst);
  assert.ok(typeof udp !== "string");
  assert.is(new TextDecoder().decode(udp.payload), "back");
  assert.is(udp.srcPort, 7);
  socket.close();
  socket.close();
  assert.throws(() => socket.read(), (e: unknown) => e instanceof SocketClosedError);
  assert.throws(() => socket.write(new Uint8Array(1), "10.0.2.2", 4000), (e: unknown) => e instanceof SocketClosedError);
  await finishProvider(r);
});

test("UDP: bad options throw before the port is bound; a throwing onReadable goes to onError", async () => {
  const r = await providerRig();
  assert.throws(() => new device.io.UDP(null as never), TypeError);
  assert.throws(() => new device.io.UDP({ port: 7, format: "number" as "buffer" }), RangeError);
  assert.throws(() => new device.io.UDP({ port: 7, onReadable: 3 as never }), TypeError);
  assert.throws(() => new device.io.UDP({ port: 7, address: "10.9.9.9" }), RangeError);
  assert.throws(() => new device.io.UDP({ port: 70000 }), RangeError);
  const a = new device.io.UDP({ port: 7 }); // none of the above took port 7
  assert.throws(() => new device.io.UDP({ port: 7 }), (e: unknown) => e instanceof PortInUseError);
  a.close();
  const errors: string[] = [];
  const mac = r.context.drivers.net.devices()[0]!.mac;
  const b = new device.io.UDP({
    port: 9,
    address: GUEST_IP,
    onReadable() {
      throw new Error("app bug");
    },
    onError(error) {
      errors.push(error.message);
    },
  });
  r.nic.deliver(udpFrame(mac, PEER_MAC, PEER_IP, OUR_IP, 4000, 9, Uint8Array.of(1)));
  await r.model.settle();
  assert.equal(errors, ["app bug"]);
  b.close();
  await finishProvider(r);
});

test("ethernet: MAC, link, address; onChanged tells the state after open and each link change", async () => {
  const r = await providerRig();
  const changes: string[] = [];
  const eth = new device.network.ethernet.io({
    ...device.network.ethernet,
    target: 5,
    onChanged(what) {
      assert.is(this, eth);
      changes.push(`${what}:${what === "link" ? this.link : this.address}`);
    },
  });
  assert.is(eth.target, 5);
  assert.match(eth.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.is(eth.link, "up");
  assert.is(eth.address, GUEST_IP);
  assert.is(eth.netmask, "255.255.255.0");
  assert.is(eth.gateway, "10.0.2.2");
  assert.is(eth.mode, "static");
  await r.model.settle();
  assert.equal(changes, ["link:up", "address:10.0.2.15"]);
  r.nic.setLink(false);
  await until(() => changes.length === 3);
  assert.equal(changes[2], "link:down");
  eth.close();
  eth.close();
  assert.throws(() => eth.link, (e: unknown) => e instanceof EthernetClosedError);
  assert.throws(() => new device.network.ethernet.io({ interface: "eth1" }), /no network interface eth1/);
  assert.throws(() => new device.network.ethernet.io({ interface: "wlan0" }), RangeError);
  assert.throws(() => new device.network.ethernet.io({ onChanged: 1 as never }), TypeError);
  await finishProvider(r);
});

test.run();
