// Status bits (VIRTIO 1.2 §2.1) and the step names the bus reports, and the feature
// ranges (§6): pure functions.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { Status, statusNames, statusStep } from "../../../drivers/virtio/status.js";
import { CORE_HANDLED_FEATURES, Feature, TRANSPORT_FEATURES_MASK, bit, hasFeature } from "../../../drivers/virtio/features.js";
import { deviceTypeName } from "../../../drivers/virtio/device-types.js";

test("status values as the spec numbers them", () => {
  assert.equal(Status, { ACKNOWLEDGE: 1, DRIVER: 2, DRIVER_OK: 4, FEATURES_OK: 8, DEVICE_NEEDS_RESET: 64, FAILED: 128 });
});

test("statusStep: the furthest step, trouble first", () => {
  assert.is(statusStep(0), "RESET");
  assert.is(statusStep(1), "ACKNOWLEDGE");
  assert.is(statusStep(3), "DRIVER");
  assert.is(statusStep(11), "FEATURES_OK");
  assert.is(statusStep(15), "DRIVER_OK");
  assert.is(statusStep(7), "DRIVER_OK", "legacy: no FEATURES_OK");
  assert.is(statusStep(15 | 64), "NEEDS_RESET");
  assert.is(statusStep(15 | 64 | 128), "FAILED");
});

test("statusNames lists bits, unknown ones in hex", () => {
  assert.is(statusNames(0), "RESET");
  assert.is(statusNames(0x0f), "ACKNOWLEDGE|DRIVER|DRIVER_OK|FEATURES_OK");
  assert.is(statusNames(0x81 | 0x10), "ACKNOWLEDGE|FAILED|0x10");
});

test("transport feature range is bits 24-40; the core handles three of them", () => {
  assert.ok(hasFeature(TRANSPORT_FEATURES_MASK, 24) && hasFeature(TRANSPORT_FEATURES_MASK, 40));
  assert.ok(!hasFeature(TRANSPORT_FEATURES_MASK, 23) && !hasFeature(TRANSPORT_FEATURES_MASK, 41));
  assert.is(CORE_HANDLED_FEATURES, bit(Feature.RING_INDIRECT_DESC) | bit(Feature.RING_EVENT_IDX) | bit(Feature.VERSION_1));
  assert.is(Feature.VERSION_1, 32);
  assert.is(Feature.RING_INDIRECT_DESC, 28);
  assert.is(Feature.RING_EVENT_IDX, 29);
});

test("device type names", () => {
  assert.is(deviceTypeName(1), "net");
  assert.is(deviceTypeName(2), "blk");
  assert.is(deviceTypeName(4), "rng");
  assert.is(deviceTypeName(18), "input");
  assert.is(deviceTypeName(99), "id-99");
});

test.run();
