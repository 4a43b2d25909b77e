// The initialization sequence (VIRTIO 1.2 §3.1.1) through the bus, on both transport
// versions, against the strict host model: DRIVER_OK, the right features, the right
// queue setup, and no violation.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { Feature, bit } from "../../../drivers/virtio/features.js";
import { Status } from "../../../drivers/virtio/status.js";
import { finish, rig, VERSIONS } from "./rig.js";
import { TestDevice, TestDriver } from "./test-device.js";

for (const version of VERSIONS) {
  test(`v${version}: rng reaches DRIVER_OK through the bus`, async () => {
    const r = rig({ version });
    const rng = new RngDriver();
    await r.bus.register(rng);
    await r.bus.scan();
    const [info, ...rest] = r.bus.devices();
    assert.equal(rest, [], "only the slot holding a device is listed");
    assert.ok(info);
    assert.is(info.slot, 31);
    assert.is(info.base, 0x0a003e00);
    assert.is(info.irq, 79);
    assert.is(info.version, version);
    assert.is(info.deviceId, 4);
    assert.is(info.type, "rng");
    assert.is(info.vendorId, 0x554d4551);
    assert.is(info.status, "DRIVER_OK");
    assert.is(info.driver, "virtio-rng");
    assert.is(info.error, null);
    const transportBits = bit(Feature.RING_INDIRECT_DESC) | bit(Feature.RING_EVENT_IDX);
    assert.is(info.features, version === 2 ? transportBits | bit(Feature.VERSION_1) : transportBits);
    const status = r.model.platform.mmio.read32(0x0a003e00 + 0x70);
    const expected = Status.ACKNOWLEDGE | Status.DRIVER | Status.DRIVER_OK | (version === 2 ? Status.FEATURES_OK : 0);
    assert.is(status, expected, "legacy skips FEATURES_OK (§3.1.2)");
    assert.ok(r.dev.queue(0).live, "requestq live");
    const bytes = await rng.devices()[0]!.read(16);
    assert.is(bytes.length, 16);
    await finish(r);
  });

  test(`v${version}: device-specific setup: config, queue sizes, ready after DRIVER_OK`, async () => {
    const device = new TestDevice();
    const r = rig({ version, device });
    const driver = new TestDriver();
    driver.sizes = [undefined, 128];
    await r.bus.register(driver);
    await r.bus.scan();
    assert.is(r.bus.devices()[0]!.status, "DRIVER_OK");
    assert.equal(driver.calls, ["probe", "ready"]);
    assert.equal(driver.config, { big: 0x1122334455667788n, word: 0xcafef00d, half: 0xbeef, byte: 0x5a });
    const vd = r.bus.device(31)!;
    assert.is(vd.queue(0)!.size, 256, "default size, within QueueNumMax 256");
    assert.is(vd.queue(1)!.size, 64, "128 asked, QueueNumMax 100: the power of two below");
    assert.is(r.dev.queue(1).num, 64, "QueueNum written");
    await finish(r);
  });

  test(`v${version}: a probe that throws leaves the device FAILED, queues taken back`, async () => {
    const r = rig({ version, device: new TestDevice() });
    const driver = new TestDriver();
    driver.failProbe = new Error("no thanks");
    await r.bus.register(driver);
    await r.bus.scan();
    const info = r.bus.devices()[0]!;
    assert.is(info.status, "FAILED");
    assert.is(info.error, "no thanks");
    assert.equal(driver.calls, ["probe", "remove:failed"]);
    assert.is(r.model.platform.mmio.read32(0x0a003e00 + 0x70) & Status.FAILED, Status.FAILED);
    assert.is(r.model.dma.stats().used, 0, "the queue made before the failure was freed");
    await finish(r);
  });

  test(`v${version}: createQueue refuses a queue the device lacks, and sizes that are not powers of two`, async () => {
    const r = rig({ version, device: new TestDevice() });
    const errors: string[] = [];
    await r.bus.register({
      name: "probe-errors",
      deviceIds: [42],
      features: () => 0n,
      probe(device) {
        for (const [index, size] of [[2, 8], [0, 12]] as const) {
          try {
            device.createQueue(index, { size, onUsed: () => {} });
          } catch (e) {
            errors.push((e as Error).name);
          }
        }
        device.createQueue(0, { size: 8, onUsed: () => {} });
        try {
          device.createQueue(0, { size: 8, onUsed: () => {} });
        } catch (e) {
          errors.push((e as Error).name);
        }
      },
      remove() {},
    });
    await r.bus.scan();
    assert.equal(errors, ["QueueSetupError", "QueueSetupError", "QueueSetupError"]);
    assert.is(r.bus.devices()[0]!.status, "DRIVER_OK");
    await finish(r);
  });

  test(`v${version}: createQueue outside probe is a DeviceStateError`, async () => {
    const r = rig({ version, device: new TestDevice() });
    const driver = new TestDriver();
    await r.bus.register(driver);
    await r.bus.scan();
    assert.throws(() => r.bus.device(31)!.createQueue(0, { onUsed: () => {} }), (e: Error) => e.name === "DeviceStateError");
    await finish(r);
  });
}

test.run();
