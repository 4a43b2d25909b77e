// VIRTIO_NET_F_MRG_RXBUF and VIRTIO_NET_F_MTU against the strict model: frames up to
// 65549 bytes (an mtu of 65535) arrive over many receive buffers, intact; every
// num_buffers and length is checked (a hostile count drops that frame and its buffers,
// the next frame is fine); the mtu is honoured on transmit; legacy devices keep 1514-byte
// buffers without MRG_RXBUF, and an mtu above 1500 is then not taken.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { FrameSizeError } from "../../../drivers/net/errors.js";
import { NetFeature } from "../../../drivers/net/net-spec.js";
import { bit } from "../../../drivers/virtio/features.js";
import { finishNet, netRig, testFrame, until } from "./net-rig.js";

test("modern + MRG_RXBUF + MTU 65535: frames of 60 to 65549 bytes arrive over several buffers, intact", async () => {
  const got: Uint8Array[] = [];
  const r = await netRig(2, { offerMrgRxbuf: true, mtu: 65535 }, {});
  r.net.onReadable = (f) => got.push(f);
  const info = r.bus.devices()[0]!;
  assert.ok((info.features & bit(NetFeature.MRG_RXBUF)) !== 0n, "MRG_RXBUF negotiated");
  assert.ok((info.features & bit(NetFeature.MTU)) !== 0n, "MTU negotiated");
  assert.ok(r.net.mergeable);
  assert.is(r.net.deviceMtu, 65535);
  assert.is(r.net.mtu, 1500, "we send at most 1500 (our transmit buffers)");
  assert.is(r.net.maxReceiveFrame, 65549);
  const sizes = [60, 1514, 1527, 3000, 9014, 30000, 65549, 100];
  for (const [i, n] of sizes.entries()) r.nic.deliver(testFrame(r.net.mac, r.nic.mac, n, i));
  await until(() => got.length === sizes.length, 5000);
  for (const [i, n] of sizes.entries()) assert.equal(got[i], testFrame(r.net.mac, r.nic.mac, n, i), `frame ${i} (${n} bytes)`);
  assert.ok(r.nic.counters.rxBuffersUsed >= 1 + 1 + 2 + 2 + 6 + 20 + 43 + 1, String(r.nic.counters.rxBuffersUsed));
  assert.is(r.net.stats().rxBadLength, 0);
  assert.equal(r.model.violations, []);
  await finishNet(r);
});

test("MRG_RXBUF: num_buffers 0 or too many drops that frame (and its buffers); the next one arrives", async () => {
  const got: Uint8Array[] = [];
  const errors: string[] = [];
  const r = await netRig(2, { offerMrgRxbuf: true }, {});
  r.net.onReadable = (f) => got.push(f);
  r.net.onError = (e) => errors.push(e.message);
  r.nic.nextNumBuffers = 0;
  r.nic.deliver(testFrame(r.net.mac, r.nic.mac, 100, 1));
  await r.model.settle();
  r.nic.nextNumBuffers = 500; // a 1514-byte frame needs 1; 500 would be 750 KB
  r.nic.deliver(testFrame(r.net.mac, r.nic.mac, 100, 2));
  await r.model.settle();
  r.nic.deliver(testFrame(r.net.mac, r.nic.mac, 200, 3));
  await until(() => got.length === 1, 2000);
  assert.equal(got[0], testFrame(r.net.mac, r.nic.mac, 200, 3));
  assert.is(r.net.stats().rxBadLength, 2);
  assert.match(errors.join("\n"), /num_buffers 0/);
  assert.match(errors.join("\n"), /num_buffers 500/);
  assert.is(r.net.rxPosted, 64, "every buffer went back to the device");
  await finishNet(r);
});

test("MTU 1400: the interface's mtu is 1400 and larger frames are refused", async () => {
  const r = await netRig(2, { offerMrgRxbuf: true, mtu: 1400 }, {});
  assert.is(r.net.mtu, 1400);
  assert.throws(() => r.net.write(testFrame(r.nic.mac, r.net.mac, 1415)), (e: unknown) => e instanceof FrameSizeError);
  r.net.write(testFrame(r.nic.mac, r.net.mac, 1414));
  await r.model.settle();
  assert.is(r.nic.transmitted.length, 1);
  await finishNet(r);
});

test("legacy: no MRG_RXBUF (1514-byte buffers); an mtu above 1500 is not negotiated, one below is", async () => {
  const big = await netRig(1, { offerMrgRxbuf: true, mtu: 9000 }, {});
  const f = big.bus.devices()[0]!.features;
  assert.is(f & bit(NetFeature.MRG_RXBUF), 0n);
  assert.is(f & bit(NetFeature.MTU), 0n);
  assert.is(big.net.headerLength, 10);
  assert.is(big.net.mtu, 1500);
  await finishNet(big);
  const small = await netRig(1, { mtu: 1280 }, {});
  assert.ok((small.bus.devices()[0]!.features & bit(NetFeature.MTU)) !== 0n);
  assert.is(small.net.mtu, 1280);
  await finishNet(small);
});

test.run();
