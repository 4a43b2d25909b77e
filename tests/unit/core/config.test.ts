// Configuration space (VIRTIO 1.2 §2.5): reads are consistent (the generation is
// re-checked on version 2 and the read retried, a bounded number of times), legacy has
// no generation, and a configuration change reaches the driver.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { readConfig } from "../../../drivers/virtio/config.js";
import { ConfigGenerationError } from "../../../drivers/virtio/errors.js";
import { finish, rig, VERSIONS } from "./rig.js";
import { TestDevice, TestDriver } from "./test-device.js";

async function bound(version: 1 | 2) {
  const device = new TestDevice();
  const r = rig({ version, device });
  const driver = new TestDriver();
  await r.bus.register(driver);
  await r.bus.scan();
  return { r, device, driver, vd: r.bus.device(31)! };
}

test("v2: a generation that moves mid-read is retried until it holds", async () => {
  const { r, vd } = await bound(2);
  const reads = r.dev.counters.configReads; // 5 or more (the probe read the config)
  // Each try reads 3 fields; the generation moves on read number reads+2 (inside the
  // first try) and next on 2*(reads+2), after the second try.
  r.dev.faults.configGenerationEvery = reads + 2;
  const value = vd.readConfig((c) => [c.u64(0), c.u32(8)] as const);
  assert.equal(value, [0x1122334455667788n, 0xcafef00d]);
  assert.is(r.dev.counters.configReads - reads, 6, "read twice");
  r.dev.faults.configGenerationEvery = 0;
  await finish(r);
});

test("v2: a generation that never holds -> ConfigGenerationError after a bounded number of tries", async () => {
  const { r, vd } = await bound(2);
  r.dev.faults.configGenerationEvery = 1;
  const reads = r.dev.counters.configReads;
  try {
    vd.readConfig((c) => c.u32(8));
    assert.unreachable("should throw");
  } catch (e) {
    assert.instance(e, ConfigGenerationError);
    assert.is((e as ConfigGenerationError).attempts, 8);
  }
  assert.is(r.dev.counters.configReads - reads, 8, "one field read per attempt, 8 attempts");
  r.dev.faults.configGenerationEvery = 0;
  await finish(r);
});

test("v1: no generation register is read (legacy has none)", async () => {
  const { r, vd } = await bound(1);
  r.dev.faults.configGenerationEvery = 1;
  assert.is(vd.transport.configGeneration(), 0);
  assert.is(readConfig(vd.transport, (c) => c.u16(12)), 0xbeef);
  r.dev.faults.configGenerationEvery = 0;
  await finish(r); // reading ConfigGeneration on v1 would be "register-not-in-version"
});

for (const version of VERSIONS) {
  test(`v${version}: a configuration change interrupt reaches the driver, which re-reads`, async () => {
    const { r, device, driver } = await bound(version);
    device.changeWord(0x12345678);
    await r.model.settle();
    assert.equal(driver.calls, ["probe", "ready", "configChanged"]);
    assert.is(driver.config!.word, 0x12345678);
    assert.is(r.bus.device(31)!.stats().configChanges, 1);
    assert.is(r.bus.devices()[0]!.status, "DRIVER_OK");
    await finish(r);
  });

  test(`v${version}: widths: 8/16/32-bit fields read at their width, 64-bit as two 32-bit reads`, async () => {
    const { r, driver } = await bound(version);
    assert.equal(driver.config, { big: 0x1122334455667788n, word: 0xcafef00d, half: 0xbeef, byte: 0x5a });
    await finish(r); // a wrong width would be "config-access-width"
  });
}

test.run();
