// DEVICE_NEEDS_RESET (VIRTIO 1.2 §2.1.2): seen on a configuration change interrupt, it
// leads to a clean re-initialization: requests in flight fail with an error, the device
// is reset and brought up again with the same driver, and the driver's handle works on.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDevice } from "../../../platform/host/index.js";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { finish, rig, VERSIONS } from "./rig.js";
import { TestDevice, TestDriver } from "./test-device.js";

for (const version of VERSIONS) {
  test(`v${version}: DEVICE_NEEDS_RESET -> in-flight requests fail, device re-initialized, reads work again`, async () => {
    const device = new RngDevice({ delayTurns: 40 });
    const r = rig({ version, device });
    const rng = new RngDriver();
    await r.bus.register(rng);
    await r.bus.scan();
    const handle = rng.devices()[0]!;
    const inFlight = handle.read(32).then(
      () => "resolved",
      (e: Error) => e.name,
    );
    await new Promise((resolve) => setImmediate(resolve));
    const resets = r.dev.counters.resets;
    r.dev.needsReset();
    assert.is(await inFlight, "DeviceRemovedError");
    const vd = r.bus.device(31)!;
    await vd.settled();
    assert.is(vd.stats().restarts, 1);
    assert.is(r.dev.counters.resets, resets + 1, "one reset: the re-init reuses the teardown's");
    assert.is(r.bus.devices()[0]!.status, "DRIVER_OK");
    assert.is(rng.devices()[0], handle, "the same handle survives");
    device.maxLength = undefined;
    const bytes = await handle.read(32);
    assert.is(bytes.length, 32);
    await finish(r);
  });

  test(`v${version}: re-init calls remove("reset") then probe and ready again`, async () => {
    const r = rig({ version, device: new TestDevice() });
    const driver = new TestDriver();
    await r.bus.register(driver);
    await r.bus.scan();
    r.dev.needsReset();
    await r.model.settle();
    await r.bus.device(31)!.settled();
    assert.equal(driver.calls, ["probe", "ready", "remove:reset", "probe", "ready"]);
    const vd = r.bus.device(31)!;
    assert.is(vd.stats().restarts, 1);
    assert.is(vd.step, "DRIVER_OK");
    assert.is(vd.error, null, "a successful re-init clears the error");
    await finish(r);
  });
}

test.run();
