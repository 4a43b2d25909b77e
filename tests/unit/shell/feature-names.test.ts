import { test } from "uvu";
import * as assert from "uvu/assert";
import { deviceFeatureTable, featureNamesFor, isDeviceTypeBit } from "../../../apps/shell/feature-names.js";
import { BlkFeature } from "../../../drivers/blk/blk-spec.js";
import { ConsoleFeature } from "../../../drivers/console/constants.js";
import { NetFeature } from "../../../drivers/net/net-spec.js";
import { DeviceId } from "../../../drivers/virtio/device-types.js";
import { Feature } from "../../../drivers/virtio/features.js";

test("every bit a driver negotiates has its name in the driver's table", () => {
  for (const [name, n] of Object.entries(BlkFeature)) assert.is(deviceFeatureTable(DeviceId.BLOCK)[n], name);
  for (const [name, n] of Object.entries(NetFeature)) assert.is(deviceFeatureTable(DeviceId.NET)[n], name);
  for (const [name, n] of Object.entries(ConsoleFeature)) assert.is(deviceFeatureTable(DeviceId.CONSOLE)[n], name);
});

test("rng and input have no feature bits; unknown device types have no table", () => {
  assert.equal(deviceFeatureTable(DeviceId.ENTROPY), {});
  assert.equal(deviceFeatureTable(DeviceId.INPUT), {});
  assert.equal(deviceFeatureTable(999), {});
});

test("device tables name only device-type bits (§6: 0-23, 50-63)", () => {
  for (const id of [DeviceId.NET, DeviceId.BLOCK, DeviceId.CONSOLE]) {
    for (const n of Object.keys(deviceFeatureTable(id)).map(Number)) assert.ok(isDeviceTypeBit(n) && n < 64, `${id}: bit ${n}`);
  }
  assert.ok(isDeviceTypeBit(0) && isDeviceTypeBit(23) && isDeviceTypeBit(50) && isDeviceTypeBit(63));
  assert.not.ok(isDeviceTypeBit(24) || isDeviceTypeBit(32) || isDeviceTypeBit(49));
});

test("a transport bit is named by the core even when a device table has the same number", () => {
  const all = (1n << BigInt(Feature.RING_EVENT_IDX)) | (1n << BigInt(Feature.VERSION_1));
  assert.equal(featureNamesFor(DeviceId.NET, all), ["RING_EVENT_IDX", "VERSION_1"]);
});

test("names come lowest bit first; unnamed bits print as bitN", () => {
  const f = (1n << 0n) | (1n << 4n) | (1n << 17n) | (1n << 41n) | (1n << 58n);
  assert.equal(featureNamesFor(DeviceId.BLOCK, f), ["BARRIER", "GEOMETRY", "ZONED", "bit41", "bit58"]);
  assert.equal(featureNamesFor(DeviceId.NET, 1n << 63n), ["SPEED_DUPLEX"]);
  assert.equal(featureNamesFor(DeviceId.ENTROPY, 0n), []);
});

test.run();
