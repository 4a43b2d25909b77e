// Quiescing (defect: drivers submitted to a device in reset). From the moment the core
// starts a reset (restart(), DEVICE_NEEDS_RESET, unbind) until DRIVER_OK is set again,
// the device is not live: every driver refuses new work with a named error (nothing is
// accepted and then dropped), and no queue notifies the device (§3.1.1 step 8: no
// QueueNotify before DRIVER_OK; §2.4.2: no write before the reset has completed). The
// strict model records `notify-before-driver-ok` / `reset-not-complete` otherwise; the
// slow reset (resetDelayReads) keeps the core polling Status long enough to try.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { BlkDevice } from "../../../platform/host/devices/blk-device.js";
import { ConsoleDeviceModel } from "../../../platform/host/devices/console-device.js";
import { InputDeviceModel } from "../../../platform/host/devices/input-device.js";
import { VirtioNetModel } from "../../../platform/host/devices/net-device.js";
import { RngDevice } from "../../../platform/host/index.js";
import { BlkDriver } from "../../../drivers/blk/blk-driver.js";
import { ConsoleDriver } from "../../../drivers/console/console-driver.js";
import { InputDriver } from "../../../drivers/input/input-driver.js";
import { NetDriver } from "../../../drivers/net/net-driver.js";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import type { VirtioDevice } from "../../../drivers/virtio/device.js";
import { finish, rig, VERSIONS, type Rig } from "./rig.js";

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Binds, starts a slow restart, runs `during` while the core polls Status, then checks
 * that nothing reached the device and the device came back. */
async function duringReset(r: Rig, during: (vd: VirtioDevice) => Promise<void> | void): Promise<void> {
  await r.bus.scan();
  await r.model.settle();
  const vd = r.bus.device(31)!;
  assert.is(vd.state, "live");
  r.dev.faults.resetDelayReads = 40;
  const restarting = vd.restart();
  await turn();
  assert.is(vd.state, "resetting");
  assert.not.ok(vd.live);
  const notifies = r.dev.counters.notifications;
  await during(vd);
  await turn();
  assert.is(r.dev.counters.notifications, notifies, "no QueueNotify while resetting");
  assert.ok(await restarting, "the restart completed");
  r.dev.faults.resetDelayReads = 0;
  assert.is(vd.state, "live");
}

function throwsName(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).name + ": " + (error as Error).message;
  }
  return "returned normally";
}

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v} console: write() while resetting throws DeviceStateError; a read's refill does not notify`, async () => {
    const model = new ConsoleDeviceModel();
    const r = rig({ version, device: model });
    const driver = new ConsoleDriver();
    await r.bus.register(driver);
    await duringReset(r, async () => {
      const port = driver.ports()[0]!;
      assert.is(port.live, false);
      assert.is(port.writable, 0);
      assert.match(throwsName(() => port.write(new TextEncoder().encode("lost?"))), /^DeviceStateError: .*while resetting/);
      port.read(); // a refill attempt
    });
    await r.model.settle();
    assert.not.match(model.text, "lost?", "nothing half-sent");
    const port = driver.ports()[0]!;
    port.write(new TextEncoder().encode("after"));
    await r.model.settle();
    assert.match(model.text, "after");
    await finish(r);
  });

  test(`${v} net: write() while resetting throws NetClosedError`, async () => {
    const r = rig({ version, device: new VirtioNetModel(), model: { ramSize: 8 << 20, dmaSize: 4 << 20 } });
    const driver = new NetDriver();
    await r.bus.register(driver);
    await duringReset(r, () => {
      const net = driver.devices()[0]!;
      assert.is(net.ready, false);
      assert.is(net.writable, 0);
      const frame = new Uint8Array(60).fill(0xff, 0, 6);
      assert.match(throwsName(() => net.write(frame)), /^NetClosedError: .*resetting/);
    });
    await finish(r);
  });

  test(`${v} rng: read() while resetting rejects with DeviceStateError`, async () => {
    const r = rig({ version, device: new RngDevice({ seed: 3 }) });
    const driver = new RngDriver();
    await r.bus.register(driver);
    await duringReset(r, async () => {
      const e = await driver.devices()[0]!.read(16).then(() => null, (error: Error) => error);
      assert.is(e?.name, "DeviceStateError");
    });
    assert.is((await driver.devices()[0]!.read(16)).length, 16);
    await finish(r);
  });

  test(`${v} input: sendStatus() while resetting throws DeviceStateError`, async () => {
    const r = rig({ version, device: new InputDeviceModel() });
    const driver = new InputDriver();
    await r.bus.register(driver);
    await duringReset(r, () => {
      const port = driver.ports()[0]!;
      assert.match(throwsName(() => port.sendStatus({ type: 0x11, code: 0, value: 1 })), /^DeviceStateError: .*while resetting/);
    });
    await finish(r);
  });

  test(`${v} blk: a read while resetting fails with a named error and never notifies`, async () => {
    const r = rig({ version, device: new BlkDevice({ image: new Uint8Array(64 * 512) }), model: { ramSize: 8 << 20, dmaSize: 4 << 20 } });
    const driver = new BlkDriver();
    await r.bus.register(driver);
    await duringReset(r, async () => {
      const e = await driver.devices()[0]!.read(0, 4).then(() => null, (error: Error) => error);
      assert.ok(e !== null && /^(DeviceStateError|DeviceRemovedError)$/.test(e.name), `rejected with ${e?.name}`);
    });
    assert.is((await driver.devices()[0]!.read(0, 4)).length, 4 * 512);
    await finish(r);
  });
}

test.run();
