// Issue #9 defect 6: the first callback after open (onWritable / onReadable of a Serial,
// onEvent / onReadable of an InputDevice for events queued before the open) goes through
// the same guard as every later one: what the application throws is recorded on the
// device and never escapes (no unhandled rejection), and the port keeps working.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConsoleDeviceModel } from "../../../platform/host/devices/console-device.js";
import { ConsoleDriver } from "../../../drivers/console/console-driver.js";
import { InputDeviceModel } from "../../../platform/host/devices/input-device.js";
import { InputDriver } from "../../../drivers/input/input-driver.js";
import { finish, rig } from "../core/rig.js";
import { unhandledDuring } from "../provider/provider-rig.js";

test("Serial: an onWritable that throws on the first call after open is recorded, not escaped", async () => {
  const r = rig({ version: 2, device: new ConsoleDeviceModel() });
  const driver = new ConsoleDriver();
  await r.bus.register(driver);
  await r.bus.scan();
  await r.model.settle();
  const calls: number[] = [];
  const escaped = await unhandledDuring(async () => {
    const serial = driver.open({
      onWritable(count) {
        calls.push(count);
        throw new Error("app bug in onWritable");
      },
    });
    await r.model.settle();
    assert.equal(calls, [4096], "the first onWritable ran");
    serial.write("still works");
    await r.model.settle();
    serial.close();
  });
  assert.equal(escaped, [], "no unhandled rejection");
  assert.is(r.bus.device(31)!.error?.message, "app bug in onWritable", "recorded on the device");
  await finish(r);
});

test("InputDevice: an onEvent that throws on events queued before the open is recorded, not escaped", async () => {
  const model = new InputDeviceModel();
  const r = rig({ version: 2, device: model });
  const driver = new InputDriver();
  await r.bus.register(driver);
  await r.bus.scan();
  await r.model.settle();
  model.key(30, true); // queued: nobody listens yet
  await r.model.settle();
  const seen: number[] = [];
  const escaped = await unhandledDuring(async () => {
    const kbd = driver.open({
      onEvent(event) {
        seen.push(event.code);
        throw new Error("app bug in onEvent");
      },
    });
    await r.model.settle();
    assert.equal(seen, [30], "the first queued event reached onEvent, which threw");
    assert.is(kbd.readable, 1, "the event after the one that threw stays queued");
    kbd.close();
  });
  assert.equal(escaped, [], "no unhandled rejection");
  assert.is(r.bus.device(31)!.error?.message, "app bug in onEvent", "recorded on the device");
  await finish(r);
});

test.run();
