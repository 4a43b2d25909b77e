// Giving up on a device (§3.1.1 "the driver SHOULD set the FAILED status bit", §2.1.2):
// the core writes the status bits it set itself, plus FAILED. What the device reports in
// Status is not trusted: a device that claims DRIVER_OK (or reserved bits) while the
// driver's probe fails must not have them written back to it (DRIVER_OK would make it
// live on a half set-up driver).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { Status } from "../../../drivers/virtio/status.js";
import { finish, rig, VERSIONS } from "./rig.js";
import { TestDevice, TestDriver } from "./test-device.js";

const STATUS_REG = 0x0a003e00 + 0x70;

for (const version of VERSIONS) {
  test(`v${version}: FAILED is written with the driver's own bits, not the device's reported ones`, async () => {
    const r = rig({ version, device: new TestDevice() });
    const mmio = r.model.platform.mmio;
    const read32 = mmio.read32.bind(mmio);
    const write32 = mmio.write32.bind(mmio);
    let lie = 0;
    const written: number[] = [];
    mmio.read32 = (address: number): number => (address === STATUS_REG && lie !== 0 ? read32(address) | lie : read32(address));
    mmio.write32 = (address: number, value: number): void => {
      if (address === STATUS_REG) written.push(value);
      write32(address, value);
    };
    const driver = new TestDriver();
    const probe = driver.probe.bind(driver);
    driver.probe = (device) => {
      lie = Status.DRIVER_OK | 0x30; // DRIVER_OK and two reserved bits, never set by the driver
      probe(device);
    };
    driver.failProbe = new Error("no thanks");
    await r.bus.register(driver);
    await r.bus.scan();
    lie = 0;
    assert.is(r.bus.devices()[0]!.status, "FAILED");
    const failedWrite = written.find((v) => (v & Status.FAILED) !== 0);
    assert.ok(failedWrite !== undefined, "FAILED was written");
    const own = Status.ACKNOWLEDGE | Status.DRIVER | (version === 2 ? Status.FEATURES_OK : 0);
    assert.is(failedWrite, own | Status.FAILED, `wrote 0x${failedWrite!.toString(16)}`);
    for (const v of written) assert.is(v & (Status.DRIVER_OK | 0x30), 0, `no write of 0x${v.toString(16)} sets DRIVER_OK or reserved bits`);
    assert.is(r.dev.status & Status.DRIVER_OK, 0, "the device never went live");
    await finish(r);
  });
}

test("v2: FEATURES_OK refused -> FAILED without FEATURES_OK (the device did not keep it)", async () => {
  const r = rig({ version: 2, device: new TestDevice() });
  const mmio = r.model.platform.mmio;
  const write32 = mmio.write32.bind(mmio);
  const written: number[] = [];
  mmio.write32 = (address: number, value: number): void => {
    if (address === STATUS_REG) written.push(value);
    write32(address, value);
  };
  r.dev.faults.refuseFeaturesOk = true;
  await r.bus.register(new TestDriver());
  await r.bus.scan();
  assert.is(r.bus.devices()[0]!.status, "FAILED");
  assert.is(written.find((v) => (v & Status.FAILED) !== 0), Status.ACKNOWLEDGE | Status.DRIVER | Status.FAILED);
  r.dev.faults.refuseFeaturesOk = false;
  await finish(r);
});

test.run();
