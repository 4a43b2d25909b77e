// A device that sets DEVICE_NEEDS_RESET again after every re-initialization (§2.1.2) is
// re-initialized a bounded number of times, then given up: reset, driver removed, FAILED.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { finish, rig, VERSIONS, type Rig } from "./rig.js";
import { TestDevice, TestDriver } from "./test-device.js";

/** Its device asks for a reset as soon as it is live. */
class StubbornDriver extends TestDriver {
  rig: Rig | null = null;
  override ready(): void {
    super.ready();
    const r = this.rig;
    if (r !== null && r.bus.device(31)?.live) setImmediate(() => r.dev.needsReset());
  }
}

const until = async (done: () => boolean): Promise<void> => {
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
};

for (const version of VERSIONS) {
  test(`v${version}: DEVICE_NEEDS_RESET for ever -> ${3} re-inits, then FAILED (not an endless loop)`, async () => {
    const r = rig({ version, device: new TestDevice(), core: { maxNeedsResetRestarts: 3 } });
    const driver = new StubbornDriver();
    driver.rig = r;
    await r.bus.register(driver);
    await r.bus.scan();
    const vd = r.bus.device(31)!;
    await until(() => vd.step === "FAILED");
    await vd.settled();
    await r.model.settle();
    assert.is(vd.stats().restarts, 3);
    assert.is(vd.step, "FAILED");
    assert.match(vd.error?.message ?? "", /DEVICE_NEEDS_RESET 4 times in 60000 ms: given up/);
    assert.is(driver.calls.filter((c) => c === "probe").length, 4, "first bind and 3 re-inits");
    assert.is(driver.calls.at(-1), "remove:failed", "the driver lets go: the device no longer uses its memory");
    assert.ok(r.dev.counters.resets >= 4);
    driver.rig = null;
    await finish(r);
  });

  test(`v${version}: re-inits spread beyond the window are all allowed`, async () => {
    const r = rig({ version, device: new TestDevice(), core: { maxNeedsResetRestarts: 1, needsResetWindowMs: 0 } });
    const driver = new TestDriver();
    await r.bus.register(driver);
    await r.bus.scan();
    const vd = r.bus.device(31)!;
    for (let i = 0; i < 3; i++) {
      r.dev.needsReset();
      await r.model.settle();
      await vd.settled();
      assert.is(vd.step, "DRIVER_OK");
    }
    assert.is(vd.stats().restarts, 3);
    await finish(r);
  });
}

test.run();
