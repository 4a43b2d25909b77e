// The `net` shell command over the real driver and IPv4 layer on the host model (the
// shell itself on the shell tests' fake console): info, udp-echo stopped by a count and
// by Ctrl-C, dhcp, usage errors, no device.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { netCommand, type NetSource } from "../../../apps/shell/commands/net.js";
import { ARP_REPLY, ARP_REQUEST, parseArp } from "../../../net/ip/arp.js";
import { parseEthernet } from "../../../net/ip/ethernet.js";
import { parseIpv4Packet } from "../../../net/ip/ipv4.js";
import { parseUdp } from "../../../net/ip/udp.js";
import type { VirtioNetModel } from "../../../platform/host/devices/net-device.js";
import { fakeShell } from "../shell/shell-rig.js";
import { arpFrame, finishNet, netRig, OUR_IP, PEER_IP, PEER_MAC, udpFrame, until } from "./net-rig.js";

/** A peer that answers ARP for 10.0.2.2 and collects the UDP payloads it gets. */
function peer(echoes: Uint8Array[]) {
  return (frame: Uint8Array, nic: VirtioNetModel) => {
    const eth = parseEthernet(frame)!;
    if (eth.type === 0x0806) {
      const p = parseArp(eth.payload)!;
      if (p.op === ARP_REQUEST && p.targetIp === PEER_IP) nic.deliver(arpFrame(ARP_REPLY, PEER_MAC, PEER_IP, p.senderMac, p.senderIp, p.senderMac));
      return;
    }
    const ip = parseIpv4Packet(eth.payload);
    if (typeof ip === "string") return;
    const udp = parseUdp(ip.payload, ip.src, ip.dst);
    if (typeof udp !== "string") echoes.push(udp.payload.slice());
  };
}

async function setup(static_ = true) {
  const echoes: Uint8Array[] = [];
  const r = await netRig(2, { peer: peer(echoes) }, { ip: static_ ? { address: "10.0.2.15", gateway: "10.0.2.2" } : { dhcp: { retryMs: 5, attempts: 2 } } });
  const { platform, shell, run } = fakeShell({ commands: [netCommand(r.driver)] });
  await run("batch on");
  platform.clearOutput();
  return { r, platform, shell, run, echoes };
}

const datagram = (r: Awaited<ReturnType<typeof setup>>["r"], text: string) =>
  udpFrame(r.net.mac, PEER_MAC, PEER_IP, OUR_IP, 40000, 7, new TextEncoder().encode(text));

test("net info: MAC, link, address and counters; --json", async () => {
  const { r, run } = await setup();
  const out = await run("net info");
  assert.match(out, /mac {7}52:54:00:12:34:56 \(device\)/);
  assert.match(out, /link {6}up/);
  assert.match(out, /ipv4 {6}10\.0\.2\.15\/24 gateway 10\.0\.2\.2 \(static\)/);
  assert.match(out, /rx {8}0 frames/);
  assert.ok(out.endsWith("@@status 0\r\nvirtio> "), out);
  const json = JSON.parse((await run("net info --json")).split("\r\n")[0]!);
  assert.is(json.address, "10.0.2.15");
  assert.is(json.headerLength, 12);
  assert.is(json.device.txFrames, 0);
  await finishNet(r);
});

test("net udp-echo PORT --count N: echoes N datagrams, then returns to the prompt", async () => {
  const { r, run, echoes } = await setup();
  const done = run("net udp-echo 7 --count 3");
  await new Promise((resolve) => setTimeout(resolve, 5)); // the server is bound
  for (const text of ["one", "two", "three"]) r.nic.deliver(datagram(r, text));
  const out = await done;
  assert.match(out, /udp-echo: serving 10\.0\.2\.15:7; Ctrl-C stops/);
  assert.match(out, /udp-echo: echoed 3 datagrams \(11 bytes\), 0 dropped/);
  assert.ok(out.endsWith("@@status 0\r\nvirtio> "), out);
  await until(() => echoes.length === 3);
  assert.equal(echoes.map((e) => new TextDecoder().decode(e)), ["one", "two", "three"]);
  await finishNet(r);
});

test("net udp-echo PORT: Ctrl-C stops it; the port is free again; --timeout S ends it", async () => {
  const { r, platform, run } = await setup();
  const done = run("net udp-echo 7");
  await new Promise((resolve) => setTimeout(resolve, 5));
  r.nic.deliver(datagram(r, "x"));
  await until(() => r.driver.interfaces()[0]!.stack!.stats.udpSent === 1);
  platform.type("\x03");
  const out = await done;
  assert.match(out, /echoed 1 datagrams \(1 bytes\)/);
  assert.ok(out.endsWith("@@status 0\r\nvirtio> "), out);
  const again = await run("net udp-echo 7 --timeout 1");
  assert.match(again, /serving 10\.0\.2\.15:7/, "port 7 was released");
  assert.match(again, /echoed 0 datagrams/, "--timeout ended it");
  assert.ok(again.endsWith("@@status 0\r\nvirtio> "), again);
  await finishNet(r);
});

test("net: usage errors and no device", async () => {
  const { r, run } = await setup();
  for (const bad of ["net", "net foo", "net udp-echo", "net udp-echo 0", "net udp-echo 70000", "net udp-echo 7 --count x", "net info --yaml"]) {
    const out = await run(bad);
    assert.ok(out.endsWith("@@status 1\r\nvirtio> "), `${bad}: ${out}`);
  }
  await finishNet(r);
  const none: NetSource = { interfaces: () => [] };
  const empty = fakeShell({ commands: [netCommand(none)] });
  await empty.run("batch on");
  assert.is(await empty.run("net info"), "no virtio-net device\r\n@@status 1\r\nvirtio> ");
});

test("net udp-echo without an address: waits for DHCP, then fails with a clear error", async () => {
  const { r, run } = await setup(false);
  const out = await run("net udp-echo 7");
  assert.match(out, /waiting for an address/);
  assert.match(out, /DHCP: no answer/);
  assert.ok(out.endsWith("@@status 1\r\nvirtio> "), out);
  await finishNet(r);
});

test.run();
