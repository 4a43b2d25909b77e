// The virtio-net driver against the strict host model, in both transport versions:
// bring-up, header versions, transmit, receive with the receive queue kept full, bad
// used lengths dropped, link changes, transmit backpressure, and clean teardown.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { NetQueueFullError, FrameSizeError, NetClosedError } from "../../../drivers/net/errors.js";
import { NetFeature } from "../../../drivers/net/net-spec.js";
import { Feature, bit } from "../../../drivers/virtio/features.js";
import { finishNet, netRig, testFrame, until } from "./net-rig.js";

const VERSIONS = [1, 2] as const;

for (const version of VERSIONS) {
  test(`v${version}: reaches DRIVER_OK with MAC and STATUS, the right header size, receive queue full`, async () => {
    const r = await netRig(version);
    const info = r.bus.devices()[0]!;
    assert.is(info.status, "DRIVER_OK");
    assert.is(info.type, "net");
    assert.is(info.driver, "virtio-net");
    const device = bit(NetFeature.MAC) | bit(NetFeature.STATUS);
    assert.is(info.features & 0xffffffn, device, "only MAC and STATUS of the device bits");
    assert.is((info.features & bit(Feature.VERSION_1)) !== 0n, version === 2);
    assert.is(r.net.headerLength, version === 2 ? 12 : 10, "§5.1.6: 12 with VERSION_1, 10 for legacy without MRG_RXBUF");
    assert.is(r.nic.headerLength, r.net.headerLength);
    assert.is(r.net.macString, "52:54:00:12:34:56");
    assert.ok(r.net.macFromDevice);
    assert.ok(r.net.linkUp);
    assert.is(r.net.rxPosted, 64, "64 receive buffers posted");
    assert.ok(r.net.ready);
    await finishNet(r);
  });

  test(`v${version}: a device without MAC gets a random locally administered unicast MAC`, async () => {
    const r = await netRig(version, { offerMac: false, offerStatus: false });
    const mac = r.net.mac;
    assert.is(mac[0]! & 0x03, 0x02, "locally administered, unicast");
    assert.not.ok(r.net.macFromDevice);
    assert.ok(r.net.linkUp, "§5.1.4: without STATUS the link is up");
    await finishNet(r);
  });

  test(`v${version}: a multicast MAC in config is refused (error reported), a random one is used`, async () => {
    const r = await netRig(version, { mac: new Uint8Array([0x01, 0, 0x5e, 1, 2, 3]) });
    assert.not.ok(r.net.macFromDevice);
    assert.is(r.net.mac[0]! & 1, 0);
    assert.match(r.bus.devices()[0]!.error ?? "", /MAC address: 01:00:5e:01:02:03/);
    await finishNet(r);
  });

  test(`v${version}: transmit: frames reach the wire intact, slots come back`, async () => {
    const r = await netRig(version);
    const sizes = [14, 60, 100, 1514];
    for (const [i, n] of sizes.entries()) r.net.write(testFrame(r.nic.mac, r.net.mac, n, i));
    await r.model.settle();
    assert.is(r.nic.transmitted.length, sizes.length);
    for (const [i, n] of sizes.entries()) assert.equal(r.nic.transmitted[i], testFrame(r.nic.mac, r.net.mac, n, i));
    assert.is(r.net.writable, 32, "every slot free again");
    // frames that are views at any alignment go out intact too (the copy picks its path)
    const backing = new Uint8Array(1600);
    for (const offset of [1, 2, 3]) {
      const view = backing.subarray(offset, offset + 300);
      view.set(testFrame(r.nic.mac, r.net.mac, 300, offset));
      r.net.write(view);
    }
    await r.model.settle();
    for (const offset of [1, 2, 3]) assert.equal(r.nic.transmitted[3 + offset], testFrame(r.nic.mac, r.net.mac, 300, offset));
    assert.is(r.net.stats().txFrames, 7);
    assert.throws(() => r.net.write(new Uint8Array(13)), (e: unknown) => e instanceof FrameSizeError);
    assert.throws(() => r.net.write(new Uint8Array(1515)), (e: unknown) => e instanceof FrameSizeError);
    await finishNet(r);
  });

  test(`v${version}: receive: frames delivered in order, buffers refilled (3x the ring)`, async () => {
    const r = await netRig(version, {}, { rxBuffers: 16 });
    const got: Uint8Array[] = [];
    r.net.onReadable = (frame) => got.push(frame);
    const frames = Array.from({ length: 48 }, (_, i) => testFrame(r.net.mac, r.nic.mac, 14 + ((i * 97) % 1501), i));
    for (const f of frames) r.nic.deliver(f);
    await until(() => got.length === frames.length);
    for (const [i, f] of frames.entries()) assert.equal(got[i], f, `frame ${i}`);
    assert.is(r.net.rxPosted, 16, "the receive queue is full again");
    assert.is(r.net.stats().rxFrames, 48);
    assert.is(r.nic.counters.rxDropped, 0);
    await finishNet(r);
  });

  test(`v${version}: loopback: what goes out comes back`, async () => {
    const r = await netRig(version, { loopback: true });
    const got: Uint8Array[] = [];
    r.net.onReadable = (frame) => got.push(frame);
    const frame = testFrame(r.net.mac, r.net.mac, 200, 3);
    r.net.write(frame);
    await until(() => got.length === 1);
    assert.equal(got[0], frame);
    await finishNet(r);
  });

  test(`v${version}: a used length shorter than the header or a runt is dropped with a counter; the next frame is fine`, async () => {
    const r = await netRig(version);
    const got: Uint8Array[] = [];
    const errors: Error[] = [];
    r.net.onReadable = (frame) => got.push(frame);
    r.net.onError = (e) => errors.push(e);
    r.nic.nextRxLength = 4;
    r.nic.deliver(testFrame(r.net.mac, r.nic.mac, 60, 1));
    r.nic.nextRxLength = r.nic.headerLength + 10;
    r.nic.deliver(testFrame(r.net.mac, r.nic.mac, 60, 2));
    const good = testFrame(r.net.mac, r.nic.mac, 60, 3);
    r.nic.deliver(good);
    await until(() => got.length === 1);
    assert.equal(got[0], good);
    assert.is(r.net.stats().rxBadLength, 2);
    assert.is(errors.length, 2);
    assert.match(errors[0]!.message, /bad receive length: 4/);
    assert.is(r.net.rxPosted, 64, "the dropped frames' buffers were posted again");
    assert.ok(r.net.ready, "the driver stays up");
    await finishNet(r);
  });

  test(`v${version}: link status follows config changes (set_link)`, async () => {
    const r = await netRig(version);
    const changes: boolean[] = [];
    r.net.onLinkChange = (up) => changes.push(up);
    r.nic.setLink(false);
    await until(() => changes.length === 1);
    assert.not.ok(r.net.linkUp);
    r.nic.setLink(true);
    await until(() => changes.length === 2);
    assert.equal(changes, [false, true]);
    assert.ok(r.net.linkUp);
    assert.is(r.net.stats().linkChanges, 2);
    await finishNet(r);
  });

  test(`v${version}: transmit backpressure: a full queue throws, onWritable says when there is room`, async () => {
    const r = await netRig(version, {}, { txSlots: 4 });
    const writable: number[] = [];
    r.net.onWritable = (n) => writable.push(n);
    for (let i = 0; i < 4; i++) r.net.write(testFrame(r.nic.mac, r.net.mac, 64, i));
    assert.is(r.net.writable, 0);
    assert.throws(() => r.net.write(testFrame(r.nic.mac, r.net.mac, 64, 9)), (e: unknown) => e instanceof NetQueueFullError);
    assert.is(r.net.stats().txFull, 1);
    await until(() => writable.length > 0);
    assert.is(writable[writable.length - 1], 4);
    r.net.write(testFrame(r.nic.mac, r.net.mac, 64, 10));
    await r.model.settle();
    assert.is(r.nic.transmitted.length, 5);
    await finishNet(r);
  });

  test(`v${version}: close() is safe twice; write throws after it; callbacks stop`, async () => {
    const r = await netRig(version);
    let calls = 0;
    r.net.onReadable = () => calls++;
    r.net.close();
    r.net.close();
    assert.throws(() => r.net.write(testFrame(r.nic.mac, r.net.mac, 64)), (e: unknown) => e instanceof NetClosedError);
    r.nic.deliver(testFrame(r.net.mac, r.nic.mac, 64));
    await r.model.settle();
    assert.is(calls, 0);
    assert.is(r.net.stats().rxUnread, 1);
    await finishNet(r);
  });

  test(`v${version}: a callback that throws goes to onError, not the event loop`, async () => {
    const r = await netRig(version);
    const errors: Error[] = [];
    r.net.onReadable = () => {
      throw new Error("app bug");
    };
    r.net.onError = (e) => errors.push(e);
    r.nic.deliver(testFrame(r.net.mac, r.nic.mac, 64));
    await until(() => errors.length === 1);
    assert.is(errors[0]!.message, "app bug");
    await finishNet(r);
  });

  test(`v${version}: unbind frees every buffer; writes fail cleanly afterwards`, async () => {
    const r = await netRig(version);
    r.net.write(testFrame(r.nic.mac, r.net.mac, 64));
    await r.bus.shutdown();
    assert.is(r.model.dma.stats().used, 0);
    assert.throws(() => r.net.write(testFrame(r.nic.mac, r.net.mac, 64)), (e: unknown) => e instanceof NetClosedError);
    await finishNet(r);
  });
  test(`v${version}: a used length beyond the buffer breaks the queue; the device is re-initialized and works again`, async () => {
    const r = await netRig(version);
    const got: Uint8Array[] = [];
    const errors: Error[] = [];
    r.net.onReadable = (frame) => got.push(frame);
    r.net.onError = (e) => errors.push(e);
    const dev = r.model.device(31)!;
    dev.faults.usedLenExtra = 4096;
    r.nic.deliver(testFrame(r.net.mac, r.nic.mac, 60, 1));
    dev.faults.usedLenExtra = 0;
    await until(() => r.net.stats().restarts === 1 && r.net.ready);
    assert.is(errors.length, 1);
    assert.match(errors[0]!.message, /len|length/i);
    assert.is(r.bus.devices()[0]!.status, "DRIVER_OK");
    const good = testFrame(r.net.mac, r.nic.mac, 60, 2);
    r.nic.deliver(good);
    await until(() => got.length === 1);
    assert.equal(got[0], good);
    r.net.write(testFrame(r.nic.mac, r.net.mac, 64, 3));
    await r.model.settle();
    assert.is(r.nic.transmitted.length, 1);
    await finishNet(r);
  });

  test(`v${version}: a device that keeps breaking the ring is given up on after maxRestarts`, async () => {
    const r = await netRig(version, {}, { maxRestarts: 1 });
    const dev = r.model.device(31)!;
    dev.faults.usedIdOutOfRange = true;
    r.nic.deliver(testFrame(r.net.mac, r.nic.mac, 60, 1));
    await until(() => r.net.stats().restarts === 1 && r.net.ready);
    r.nic.deliver(testFrame(r.net.mac, r.nic.mac, 60, 2));
    await until(() => r.net.broken !== null);
    await r.model.settle();
    assert.is(r.net.stats().restarts, 1);
    assert.not.ok(r.net.ready);
    assert.throws(() => r.net.write(testFrame(r.nic.mac, r.net.mac, 64)), /used|id|range/i);
    dev.faults.usedIdOutOfRange = false;
    await finishNet(r);
  });
}

test.run();
