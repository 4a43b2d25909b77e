// An unbind always reaches the driver: a re-initialization that fails before probe
// (FEATURES_OK refused, say) leaves the driver without the device's queues, but the
// driver still holds the device's handle (and whatever it runs on it: an IP stack and its
// timers); remove("unbind") must come, once, when the device is unbound.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { finish, rig } from "./rig.js";
import { TestDevice, TestDriver } from "./test-device.js";

test("v2: re-init refused at FEATURES_OK, then unbind -> remove(\"unbind\") still called", async () => {
  const r = rig({ version: 2, device: new TestDevice() });
  const driver = new TestDriver();
  await r.bus.register(driver);
  await r.bus.scan();
  const vd = r.bus.device(31)!;
  r.dev.faults.refuseFeaturesOk = true;
  assert.is(await vd.restart(), false, "the re-initialization fails");
  assert.is(vd.step, "FAILED");
  assert.equal(driver.calls, ["probe", "ready", "remove:reset"]);
  r.dev.faults.refuseFeaturesOk = false;
  await r.bus.shutdown();
  assert.equal(driver.calls, ["probe", "ready", "remove:reset", "remove:unbind"]);
  assert.is(vd.driver, null);
  await finish(r);
});

test("v2: unbind of a device whose first init failed before probe: no remove (the driver never had it)", async () => {
  const r = rig({ version: 2, device: new TestDevice() });
  const driver = new TestDriver();
  r.dev.faults.refuseFeaturesOk = true;
  await r.bus.register(driver);
  await r.bus.scan();
  r.dev.faults.refuseFeaturesOk = false;
  await r.bus.shutdown();
  assert.equal(driver.calls, []);
  await finish(r);
});

test("v2: remove(\"unbind\") after a normal life comes once", async () => {
  const r = rig({ version: 2, device: new TestDevice() });
  const driver = new TestDriver();
  await r.bus.register(driver);
  await r.bus.scan();
  await r.bus.shutdown();
  await r.bus.shutdown();
  assert.equal(driver.calls, ["probe", "ready", "remove:unbind"]);
  await finish(r);
});

test.run();
