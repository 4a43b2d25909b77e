// VIRTIO_NET_F_MQ (§5.1.6.5.5) against the strict model, both transport versions: the
// queue pairs set up (receiveqN 2(N-1), transmitqN 2(N-1)+1, the control queue at
// 2 * max_virtqueue_pairs), VQ_PAIRS_SET sent after DRIVER_OK and frames on transmitq1
// only until the device took it (the model records any other as a violation), flows
// spread over the transmit queues in order, frames read from every receive queue, a
// refused command leaving one pair, a reset setting the pairs again, and a device whose
// max_virtqueue_pairs is out of range not getting MQ.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { NetFeature } from "../../../drivers/net/net-spec.js";
import { NetControlError } from "../../../drivers/net/errors.js";
import { bit } from "../../../drivers/virtio/features.js";
import { createHostModel } from "../../../platform/host/index.js";
import { VirtioNetModel } from "../../../platform/host/devices/net-device.js";
import { createBus } from "../../../apps/bus.js";
import { NetDriver } from "../../../drivers/net/net-driver.js";
import { finishNet, netRig, OUR_IP, PEER_IP, PEER_MAC, udpFrame, until } from "./net-rig.js";

const FLOWS = 48;
const portOf = (f: Uint8Array): number => (f[34]! << 8) | f[35]!;

for (const version of [2, 1] as const) {
  test(`v${version}: 4 queue pairs: VQ_PAIRS_SET after DRIVER_OK, flows spread over the transmit queues in order, every receive queue read`, async () => {
    const r = await netRig(version, { queuePairs: 4 });
    assert.ok((r.bus.devices()[0]!.features & bit(NetFeature.MQ)) !== 0n, "MQ negotiated");
    assert.is(r.net.maxQueuePairs, 4);
    assert.is(r.net.queuePairsSetUp, 4);
    await until(() => r.net.queuePairs === 4);
    assert.equal(r.nic.controlLog, ["mq pairs 4"]);
    assert.is(r.nic.queuePairs, 4);
    // two frames per flow, so the order within each flow is checked
    for (let round = 0; round < 2; round++) {
      for (let p = 0; p < FLOWS; p++) r.net.write(udpFrame(PEER_MAC, r.net.mac, OUR_IP, PEER_IP, 1000 + p, 7, new Uint8Array([round, p])));
      await r.model.settle();
    }
    await until(() => r.nic.transmitted.length === 2 * FLOWS);
    assert.ok(r.nic.txPerPair.filter((n) => n > 0).length >= 3, `spread: ${r.nic.txPerPair}`);
    assert.equal(r.net.pairStats().map((p) => p.txFrames), r.nic.txPerPair, "the driver counts what the device saw per pair");
    for (let p = 0; p < FLOWS; p++) {
      const rounds = r.nic.transmitted.filter((f) => portOf(f) === 1000 + p).map((f) => f[42]);
      assert.equal(rounds, [0, 1], `flow ${p} in order`);
    }
    const got: number[] = [];
    r.net.onReadable = (f) => got.push((f[36]! << 8) | f[37]!);
    for (let p = 0; p < FLOWS; p++) r.nic.deliver(udpFrame(r.net.mac, PEER_MAC, PEER_IP, OUR_IP, 7, 1000 + p, new Uint8Array([p])));
    await until(() => got.length === FLOWS);
    assert.equal([...got].sort((a, b) => a - b), Array.from({ length: FLOWS }, (_, p) => 1000 + p));
    assert.ok(r.nic.rxPerPair.filter((n) => n > 0).length >= 3, `steered: ${r.nic.rxPerPair}`);
    assert.equal(r.net.pairStats().map((p) => p.rxFrames), r.nic.rxPerPair);
    // a reset takes the device back to one pair; the driver sets them again
    assert.ok(await r.bus.device(31)!.restart());
    await until(() => r.net.ready && r.net.queuePairs === 4);
    assert.equal(r.nic.controlLog, ["mq pairs 4", "mq pairs 4"]);
    await finishNet(r);
  });
}

test("queuePairs option: 2 of the device's 4; the control queue is still queue 8 (2 * max_virtqueue_pairs)", async () => {
  const r = await netRig(2, { queuePairs: 4 }, { queuePairs: 2 });
  assert.is(r.net.queuePairsSetUp, 2);
  await until(() => r.net.queuePairs === 2);
  await r.net.control!.setPromiscuous(true);
  assert.equal(r.nic.controlLog, ["mq pairs 2", "promisc 1"]);
  assert.ok(r.bus.device(31)!.queue(8) !== undefined, "control queue at 8");
  assert.ok(r.bus.device(31)!.queue(4) === undefined, "pair 3 not set up");
  await finishNet(r);
});

test("a refused VQ_PAIRS_SET leaves one pair: frames stay on transmitq1, the refusal is reported", async () => {
  const r = await netRig(2, { queuePairs: 2 });
  await until(() => r.net.queuePairs === 2);
  const errors: Error[] = [];
  r.net.onError = (e) => errors.push(e);
  r.nic.nextCtrlAck = 1;
  assert.ok(await r.bus.device(31)!.restart());
  await until(() => errors.length > 0);
  assert.ok(errors[0] instanceof NetControlError, String(errors[0]));
  assert.is(r.net.queuePairs, 1);
  for (let p = 0; p < 16; p++) r.net.write(udpFrame(PEER_MAC, r.net.mac, OUR_IP, PEER_IP, 2000 + p, 7, new Uint8Array(4)));
  await until(() => r.nic.transmitted.length === 16);
  assert.is(r.nic.txPerPair[1], 0, "nothing on transmitq2");
  await finishNet(r);
});

for (const max of [0, 0x8001]) {
  test(`max_virtqueue_pairs ${max} (§5.1.4.1: 1 to 0x8000): MQ is not taken, one pair, the control queue at 2`, async () => {
    const model = createHostModel({ ramSize: 8 << 20, dmaSize: 4 << 20 });
    const nic = new VirtioNetModel({ queuePairs: 2 });
    nic.config[8] = max & 0xff;
    nic.config[9] = max >>> 8;
    model.attach(31, nic, { version: 2 });
    const bus = createBus(model.platform);
    const driver = new NetDriver();
    await bus.register(driver);
    await bus.scan();
    await model.settle();
    const net = driver.devices()[0]!;
    assert.ok((bus.devices()[0]!.features & bit(NetFeature.MQ)) === 0n, "MQ refused");
    assert.is(net.maxQueuePairs, 1);
    await net.control!.setPromiscuous(true);
    assert.equal(nic.controlLog, ["promisc 1"]);
    await finishNet({ model, bus, nic, driver: driver as never, net });
  });
}

test.run();
