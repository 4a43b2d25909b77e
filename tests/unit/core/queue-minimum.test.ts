// A queue smaller than the least its driver declared (QueueOptions.minSize: its longest
// chain, §2.7.5.3.1, or the buffers one device message takes) is refused by the core at
// probe AND at every re-initialization (QueueNumMax may shrink across a reset; a legacy
// virtio-pci queue has a fixed size): the device is FAILED with QueueTooSmallError, the
// driver stays registered, and once the device offers enough again a restart works.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { BlkDriver } from "../../../drivers/blk/blk-driver.js";
import { QueueSetupError, QueueTooSmallError } from "../../../drivers/virtio/errors.js";
import { BlkDevice } from "../../../platform/host/index.js";
import { REG } from "../../../platform/host/virtio-constants.js";
import { finishRig, transportRig } from "../pci/pci-rig.js";
import { finish, rig, VERSIONS } from "./rig.js";
import { TestDevice, TestDriver } from "./test-device.js";

/** QueueNumMax reads as at most `max` for every queue (a device that shrank its queues). */
function shrink(max: number): (offset: number, width: number, value: number) => number {
  return (offset, _width, value) => (offset === REG.QueueNumMax && value > 0 ? Math.min(value, max) : value);
}

for (const version of VERSIONS) {
  test(`v${version}: at probe, a queue below the driver's minimum fails the device with QueueTooSmallError`, async () => {
    const r = rig({ version, device: new TestDevice([256, 2]) });
    const driver = new TestDriver();
    driver.minSizes = [undefined, 3];
    await r.bus.register(driver);
    await r.bus.scan();
    const info = r.bus.devices()[0]!;
    assert.is(info.status, "FAILED");
    const error = r.bus.device(31)!.error;
    assert.instance(error, QueueTooSmallError);
    assert.instance(error, QueueSetupError, "a kind of queue set-up error");
    const e = error as QueueTooSmallError;
    assert.equal([e.name, e.index, e.size, e.queueNumMax, e.needed], ["QueueTooSmallError", 1, 2, 2, 3]);
    assert.match(info.error ?? "", /queue 1: 2 descriptor\(s\) \(QueueNumMax 2\), fewer than the 3 descriptors of the test's chain/);
    assert.equal(driver.calls, ["probe", "remove:failed"]);
    assert.is(r.model.dma.stats().used, 0, "queue 0, made before, was taken back");
    assert.is(r.bus.device(31)!.driver, driver, "the driver stays bound (a later restart may bring the device up)");
    await finish(r);
  });

  test(`v${version}: the size is the power of two below QueueNumMax: 3 descriptors offered, 2 usable, minimum 3 refused`, async () => {
    const r = rig({ version, device: new TestDevice([3, 100]) });
    const driver = new TestDriver();
    driver.minSizes = [3, undefined];
    await r.bus.register(driver);
    await r.bus.scan();
    const e = r.bus.device(31)!.error as QueueTooSmallError;
    assert.instance(e, QueueTooSmallError);
    assert.equal([e.index, e.size, e.queueNumMax, e.needed], [0, 2, 3, 3]);
    await finish(r);
  });

  test(`v${version}: a minimum the queue meets exactly is accepted`, async () => {
    const r = rig({ version, device: new TestDevice([4, 2]) });
    const driver = new TestDriver();
    driver.minSizes = [4, 2];
    await r.bus.register(driver);
    await r.bus.scan();
    assert.is(r.bus.devices()[0]!.status, "DRIVER_OK");
    assert.equal([r.bus.device(31)!.queue(0)!.size, r.bus.device(31)!.queue(1)!.size], [4, 2]);
    await finish(r);
  });

  test(`v${version}: at a re-initialization, a QueueNumMax that shrank below the minimum fails the device; a restart once it is back works`, async () => {
    const r = rig({ version, device: new TestDevice() });
    const driver = new TestDriver();
    driver.minSizes = [8, 8];
    await r.bus.register(driver);
    await r.bus.scan();
    const vd = r.bus.device(31)!;
    assert.is(vd.step, "DRIVER_OK");
    r.dev.faults.registerRead = shrink(4);
    assert.is(await vd.restart(), false, "the re-initialization is refused");
    assert.is(vd.step, "FAILED");
    const e = vd.error as QueueTooSmallError;
    assert.instance(e, QueueTooSmallError);
    assert.equal([e.index, e.size, e.queueNumMax, e.needed], [0, 4, 4, 8]);
    assert.is(vd.queue(0), undefined, "no queue left live");
    assert.equal(driver.calls, ["probe", "ready", "remove:reset", "probe", "remove:failed"]);
    r.dev.faults.registerRead = null;
    assert.is(await vd.restart(), true, "the device offers enough again");
    assert.is(vd.step, "DRIVER_OK");
    assert.equal([vd.queue(0)!.size, vd.queue(1)!.size], [256, 64]);
    await finish(r);
  });

  test(`v${version}: a minimum that is not a whole number from 1 to 32768 is the driver's mistake (QueueSetupError)`, async () => {
    for (const bad of [0, 1.5, 40000]) {
      const r = rig({ version, device: new TestDevice() });
      const driver = new TestDriver();
      driver.minSizes = [bad, undefined];
      await r.bus.register(driver);
      await r.bus.scan();
      const error = r.bus.device(31)!.error;
      assert.instance(error, QueueSetupError, `minimum ${bad}`);
      assert.not.instance(error, QueueTooSmallError, `minimum ${bad}`);
      assert.match(error!.message, /minimum size/);
      await finish(r);
    }
  });
}

test("pci-legacy: the queue has the device's fixed size; one below the minimum is refused at probe and at a re-init", async () => {
  // A legacy virtio-pci function needs a transitional device ID (§4.1.2.3): blk's, whose
  // driver declares 3 descriptors (header, data, status).
  const small = await transportRig("pci-legacy", new BlkDevice({ image: new Uint8Array(4096), queueMaxSize: 2 }), new BlkDriver());
  const e = small.bus.device(small.slot)!.error as QueueTooSmallError;
  assert.instance(e, QueueTooSmallError);
  assert.equal([e.index, e.size, e.needed], [0, 2, 3]);
  await finishRig(small);

  const r = await transportRig("pci-legacy", new BlkDevice({ image: new Uint8Array(4096), queueMaxSize: 64 }), new BlkDriver());
  const vd = r.bus.device(r.slot)!;
  assert.is(vd.step, "DRIVER_OK");
  assert.is(vd.queue(0)!.size, 64, "legacy virtio-pci: exactly the device's size (§4.1.4.8)");
  r.backend.faults.registerRead = shrink(2);
  assert.is(await vd.restart(), false);
  assert.instance(vd.error, QueueTooSmallError);
  r.backend.faults.registerRead = null;
  assert.is(await vd.restart(), true);
  await finishRig(r);
});

test.run();
