// Each driver's declared queue minimum (QueueOptions.minSize), checked by the core at
// probe and at every re-initialization: blk needs 3 descriptors (header, data, status,
// indirect or not: §2.7.5.3.1), legacy net 2 per frame (header apart, §5.1.6.6) and its
// control queue 2, input an eventq of 2 (an event and its SYN). A queue below that fails
// the device with QueueTooSmallError; a restart once the device offers enough works.
// The fuzzer's "unnamed-error (blk)", "no-recovery (blk)", "unnamed-error (net)" and
// "no-recovery (input)" classes (issue #9 defect 8, re-init form).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { BlkDriver } from "../../../drivers/blk/blk-driver.js";
import { InputDriver } from "../../../drivers/input/input-driver.js";
import { NetDriver } from "../../../drivers/net/net-driver.js";
import type { VirtioDevice } from "../../../drivers/virtio/device.js";
import type { VirtioDriver } from "../../../drivers/virtio/driver.js";
import { QueueTooSmallError } from "../../../drivers/virtio/errors.js";
import { BlkDevice, createHostModel, InputDeviceModel, keyboardModelOptions, VirtioNetModel, type DeviceModel, type HostModel, type MmioDeviceModel } from "../../../platform/host/index.js";
import { REG } from "../../../platform/host/virtio-constants.js";
import { createBus } from "../../../apps/bus.js";
import type { VirtioBus } from "../../../drivers/virtio/bus.js";
import { pattern } from "../blk/blk-rig.js";
import { testFrame } from "../net/net-rig.js";
import { finish, VERSIONS } from "./rig.js";

interface Machine {
  readonly model: HostModel;
  readonly bus: VirtioBus;
  readonly dev: MmioDeviceModel;
  readonly vd: VirtioDevice;
}

async function machine(version: 1 | 2, device: DeviceModel, driver: VirtioDriver, indirect = false): Promise<Machine> {
  const model = createHostModel({ ramSize: 8 << 20, dmaSize: 4 << 20 });
  const dev = model.attach(31, device, { version, indirect });
  const bus = createBus(model.platform);
  await bus.register(driver);
  await bus.scan();
  await model.settle();
  return { model, bus, dev, vd: bus.device(31)! };
}

/** QueueNumMax reads as at most `max` (a device whose queues shrank across a reset). */
function shrink(max: number): (offset: number, width: number, value: number) => number {
  return (offset, _width, value) => (offset === REG.QueueNumMax && value > 0 ? Math.min(value, max) : value);
}

function assertTooSmall(vd: VirtioDevice, index: number, size: number, needed: number): void {
  assert.is(vd.step, "FAILED");
  const e = vd.error as QueueTooSmallError;
  assert.instance(e, QueueTooSmallError, `error: ${vd.error?.name}: ${vd.error?.message}`);
  assert.equal([e.index, e.size, e.needed], [index, size, needed]);
}

/** The lie ends, a restart brings the device back. */
async function recover(m: Machine): Promise<void> {
  m.dev.faults.registerRead = null;
  assert.is(await m.vd.restart(), true, "restart once the device offers enough");
  assert.is(m.vd.step, "DRIVER_OK");
}

for (const version of VERSIONS) {
  for (const indirect of [false, true]) {
    test(`v${version} blk indirect ${indirect}: a queue of 2 at probe, of 1 at a re-init: refused (3 descriptors a request)`, async () => {
      const driver = new BlkDriver();
      const small = await machine(version, new BlkDevice({ image: pattern(64), queueMaxSize: 2 }), driver, indirect);
      assertTooSmall(small.vd, 0, 2, 3);
      assert.is(driver.devices().length, 0, "no BlockDevice handed out");
      await finish(small);

      const disk = new BlkDevice({ image: pattern(64) });
      const again = new BlkDriver();
      const m = await machine(version, disk, again, indirect);
      assert.is(m.vd.step, "DRIVER_OK");
      m.dev.faults.registerRead = shrink(1);
      assert.is(await m.vd.restart(), false);
      assertTooSmall(m.vd, 0, 1, 3);
      await recover(m);
      assert.equal(new Uint8Array(await again.devices()[0]!.read(1, 2)), disk.image.subarray(512, 1536));
      await finish(m);
    });
  }

  test(`v${version} net: a queue of 1 is ${version === 1 ? "refused (legacy: header and frame apart, 2 a frame)" : "enough (one descriptor a frame)"}, at probe and at a re-init`, async () => {
    const nic = new VirtioNetModel({ queueMaxSize: 1 });
    const driver = new NetDriver({ rxBuffers: 4 });
    const m = await machine(version, nic, driver);
    if (version === 1) {
      assertTooSmall(m.vd, 0, 1, 2);
    } else {
      assert.is(m.vd.step, "DRIVER_OK");
      const net = driver.devices()[0]!;
      net.write(testFrame(nic.mac, net.mac, 100, 1));
      await m.model.settle();
      assert.equal(nic.transmitted[0], testFrame(nic.mac, net.mac, 100, 1));
    }
    await finish(m);

    const wide = new VirtioNetModel();
    const d2 = new NetDriver({ rxBuffers: 4 });
    const r = await machine(version, wide, d2);
    assert.is(r.vd.step, "DRIVER_OK");
    r.dev.faults.registerRead = shrink(1);
    assert.is(await r.vd.restart(), version === 2, "legacy refuses, modern works");
    if (version === 1) assertTooSmall(r.vd, 0, 1, 2);
    await recover(r);
    const net = d2.devices()[0]!;
    net.write(testFrame(wide.mac, net.mac, 200, 2));
    await r.model.settle();
    assert.equal(wide.transmitted.at(-1), testFrame(wide.mac, net.mac, 200, 2));
    await finish(r);
  });

  test(`v${version} input: an eventq of 1 at probe and at a re-init is refused (an event and its SYN)`, async () => {
    const small = await machine(version, new InputDeviceModel({ ...keyboardModelOptions(), queueMaxSize: 1 }), new InputDriver());
    assertTooSmall(small.vd, 0, 1, 2);
    await finish(small);

    const model = new InputDeviceModel(keyboardModelOptions());
    const driver = new InputDriver();
    const m = await machine(version, model, driver);
    assert.is(m.vd.step, "DRIVER_OK");
    m.dev.faults.registerRead = shrink(1);
    assert.is(await m.vd.restart(), false);
    assertTooSmall(m.vd, 0, 1, 2);
    await recover(m);
    const seen: number[] = [];
    const kbd = driver.open({ onEvent: (e) => seen.push(e.type) });
    model.key(30, true);
    await m.model.settle();
    assert.equal(seen, [1, 0], "the key and its SYN");
    kbd.close();
    await finish(m);
  });
}

test("v2 net: a control queue of 1 is refused (command and ack), the data queues of 1 being enough", async () => {
  const m = await machine(2, new VirtioNetModel({ offerCtrl: true, queueMaxSize: 1 }), new NetDriver({ rxBuffers: 4 }));
  assertTooSmall(m.vd, 2, 1, 2);
  await finish(m);
});

test.run();
