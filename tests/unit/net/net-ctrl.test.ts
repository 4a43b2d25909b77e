// The virtio-net control queue (§5.1.6.5) against the strict model, both transport
// versions: promiscuous and all-multicast, the MAC filter tables, the MAC address set,
// every ack checked (a refusal rejects), and GUEST_ANNOUNCE answered with a gratuitous
// ARP from the IPv4 stack, then ANNOUNCE_ACK.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { NetControlError } from "../../../drivers/net/errors.js";
import { NetFeature } from "../../../drivers/net/net-spec.js";
import { bit } from "../../../drivers/virtio/features.js";
import { ARP_REQUEST, parseArp } from "../../../net/ip/arp.js";
import { parseEthernet } from "../../../net/ip/ethernet.js";
import { finishNet, netRig, OUR_IP, until } from "./net-rig.js";

for (const version of [2, 1] as const) {
  test(`v${version}: CTRL_VQ negotiated; promiscuous, all-multicast, MAC filter and MAC set reach the device`, async () => {
    const r = await netRig(version, { offerCtrl: true }, {});
    const f = r.bus.devices()[0]!.features;
    for (const b of [NetFeature.CTRL_VQ, NetFeature.CTRL_RX, NetFeature.CTRL_MAC_ADDR, NetFeature.GUEST_ANNOUNCE]) assert.ok((f & bit(b)) !== 0n, `feature ${b}`);
    const control = r.net.control!;
    assert.ok(control !== null);
    await control.setPromiscuous(true);
    await control.setAllMulticast(true);
    assert.equal(r.nic.rxMode, { promiscuous: true, allMulticast: true });
    const uc = new Uint8Array([2, 0, 0, 0, 0, 1]);
    const mc = [new Uint8Array([1, 0, 0x5e, 0, 0, 1]), new Uint8Array([0x33, 0x33, 0, 0, 0, 1])];
    await control.setMacFilter([uc], mc);
    assert.equal(r.nic.macFilter, { unicast: [uc], multicast: mc });
    const mac = new Uint8Array([0x52, 0x54, 0, 0xaa, 0xbb, 0xcc]);
    await r.net.setMac(mac);
    assert.equal(r.nic.mac, mac);
    assert.is(r.net.macString, "52:54:00:aa:bb:cc");
    assert.equal(r.nic.controlLog, ["promisc 1", "allmulti 1", "mac table 1+2", "mac set"]);
    assert.equal(r.model.violations, []);
    await finishNet(r);
  });
}

test("every ack is checked: a refused command rejects with NetControlError; the next one works", async () => {
  const r = await netRig(2, { offerCtrl: true }, {});
  r.nic.nextCtrlAck = 1;
  await r.net.control!.setPromiscuous(true).then(
    () => assert.unreachable("a refused command must reject"),
    (e: unknown) => {
      assert.instance(e, NetControlError);
      assert.match((e as Error).message, /promiscuous: ack 1/);
    },
  );
  await r.net.control!.setPromiscuous(false);
  assert.is(r.nic.rxMode.promiscuous, false);
  assert.is(r.net.control!.stats.errors, 1);
  await finishNet(r);
});

test("without CTRL_VQ there is no control queue; a command the features do not allow is refused", async () => {
  const r = await netRig(2, {}, {});
  assert.is(r.net.control, null);
  await r.net.setMac(new Uint8Array([2, 0, 0, 0, 0, 2])).then(() => assert.unreachable(), (e: unknown) => assert.match((e as Error).message, /no control queue/));
  await finishNet(r);
});

test("GUEST_ANNOUNCE: the stack sends a gratuitous ARP, then the driver acks the announcement", async () => {
  const frames: Uint8Array[] = [];
  const r = await netRig(2, { offerCtrl: true, peer: (f) => frames.push(f) }, { ip: { address: "10.0.2.15" } });
  r.nic.announce();
  // the model hands transmitted frames to the peer a turn later: wait for both
  await until(() => r.nic.controlLog.includes("announce ack") && frames.length > 0, 2000);
  assert.is(r.nic.counters.txFrames, 1, "one frame: the gratuitous ARP");
  const arp = frames.map((f) => parseEthernet(f)!).filter((e) => e.type === 0x0806).map((e) => parseArp(e.payload)!);
  assert.is(arp.length, 1);
  assert.is(arp[0]!.op, ARP_REQUEST);
  assert.is(arp[0]!.senderIp, OUR_IP);
  assert.is(arp[0]!.targetIp, OUR_IP, "gratuitous: asks for its own address");
  assert.is(r.nic.config[6]! & 2, 0, "the device cleared ANNOUNCE");
  assert.is(r.net.stats().announces, 1);
  await finishNet(r);
});

test.run();
