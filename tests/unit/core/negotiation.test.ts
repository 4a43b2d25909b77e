// Feature negotiation (VIRTIO 1.2 §2.2, §3.1.1 steps 4-6): the driver picks device-type
// bits, the core adds the transport bits it implements, nothing not offered is
// accepted, and a refused FEATURES_OK fails the device cleanly.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { FeaturesRefusedError, MissingFeatureError } from "../../../drivers/virtio/errors.js";
import { Feature, bit, featureNames, featuresHex } from "../../../drivers/virtio/features.js";
import { Status } from "../../../drivers/virtio/status.js";
import { finish, rig, VERSIONS } from "./rig.js";
import { TestDevice, TestDriver } from "./test-device.js";

const INDIRECT = bit(Feature.RING_INDIRECT_DESC);
const EVENT_IDX = bit(Feature.RING_EVENT_IDX);
const VERSION_1 = bit(Feature.VERSION_1);

for (const version of VERSIONS) {
  test(`v${version}: driver bits filtered by the offer; the core adds its transport bits`, async () => {
    const device = new TestDevice();
    const r = rig({ version, device });
    const driver = new TestDriver(); // wants bits 1, 7 (not offered) and 28 (transport, not its call)
    await r.bus.register(driver);
    await r.bus.scan();
    const vd = r.bus.device(31)!;
    const expected = bit(1) | INDIRECT | EVENT_IDX | (version === 2 ? VERSION_1 : 0n);
    assert.is(vd.features, expected);
    assert.is(vd.offeredFeatures, r.dev.offeredFeatures);
    assert.is(driver.offeredSeen, r.dev.offeredFeatures, "the driver saw all 64 offered bits");
    if (version === 2) assert.is(device.accepted, expected, "the device saw the same set at FEATURES_OK");
    assert.ok(vd.queue(0)!.addresses, "queue built with the negotiated flags");
    await finish(r);
  });

  test(`v${version}: transport bits the device does not offer are not taken`, async () => {
    const r = rig({ version, mmio: { indirect: false, eventIdx: false } });
    await r.bus.register(new RngDriver());
    await r.bus.scan();
    assert.is(r.bus.device(31)!.features, version === 2 ? VERSION_1 : 0n);
    await finish(r);
  });
}

test("v2: FEATURES_OK refused -> FAILED and FeaturesRefusedError with both sets", async () => {
  const r = rig({ version: 2 });
  r.dev.faults.refuseFeaturesOk = true;
  const rng = new RngDriver();
  await r.bus.register(rng);
  await r.bus.scan();
  const vd = r.bus.device(31)!;
  assert.instance(vd.error, FeaturesRefusedError);
  const error = vd.error as FeaturesRefusedError;
  assert.is(error.offered, r.dev.offeredFeatures);
  assert.is(error.accepted, VERSION_1 | INDIRECT | EVENT_IDX);
  assert.match(error.message, "refused");
  assert.is(vd.step, "FAILED");
  assert.is(r.bus.devices()[0]!.status, "FAILED");
  assert.is(r.model.platform.mmio.read32(0x0a003e00 + 0x70) & Status.FAILED, Status.FAILED);
  assert.is(r.dev.queue(0).live, false, "no queue was set up");
  assert.is(rng.devices().length, 0, "the driver's probe never ran");
  assert.is(r.model.dma.stats().used, 0);
  await finish(r);
});

test("v1: no FEATURES_OK step at all (legacy), so a device that would refuse it still comes up", async () => {
  const r = rig({ version: 1 });
  r.dev.faults.refuseFeaturesOk = true;
  await r.bus.register(new RngDriver());
  await r.bus.scan();
  assert.is(r.bus.devices()[0]!.status, "DRIVER_OK");
  await finish(r);
});

test("feature names and hex", () => {
  assert.equal(featureNames(VERSION_1 | INDIRECT | EVENT_IDX | bit(3), { 3: "FOO" }), ["FOO", "RING_INDIRECT_DESC", "RING_EVENT_IDX", "VERSION_1"]);
  assert.equal(featureNames(bit(50)), ["bit50"]);
  assert.is(featuresHex(VERSION_1 | INDIRECT | EVENT_IDX), "0x0000000130000000");
});

test("MissingFeatureError names the feature and the offer", () => {
  const e = new MissingFeatureError("mmio@0x0a000000", "VERSION_1", 0x30000000n);
  assert.is(e.name, "MissingFeatureError");
  assert.match(e.message, "VERSION_1");
  assert.is(e.offered, 0x30000000n);
});

test.run();
