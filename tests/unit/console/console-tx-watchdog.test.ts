// Transmit buffers a device never returns (issue #9's fuzz finding
// "tx-stuck-after-lost-buffers (console)"): they are the device's until it returns them or
// is reset, so without a watchdog `writable` stayed 0 for good. While buffers are out one
// sweep timer runs; no buffer back for txTimeoutMs resets and re-initializes the device,
// which gives them back: the port stays, the count says so, and writes work again.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConsoleDeviceModel } from "../../../platform/host/devices/console-device.js";
import { ConsoleDriver } from "../../../drivers/console/console-driver.js";
import { finish, rig, VERSIONS } from "../core/rig.js";

const until = async (r: { model: { settle(): Promise<void> } }, done: () => boolean, ms = 2000): Promise<boolean> => {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    await r.model.settle();
  }
  return done();
};

for (const version of VERSIONS) {
  test(`v${version}: transmit buffers the device keeps are taken back by a reset; writes work again`, async () => {
    const model = new ConsoleDeviceModel();
    const r = rig({ version, device: model });
    const driver = new ConsoleDriver({ txBuffers: 2, txBufferSize: 64, txTimeoutMs: 40 });
    await r.bus.register(driver);
    await r.bus.scan();
    await r.model.settle();
    const port = driver.ports()[0]!;
    const vd = r.bus.device(31)!;
    const errors: string[] = [];
    const serial = driver.open({ onError: (e) => errors.push(e.name) });
    assert.is(port.writable, 128);
    r.dev.faults.loseChains = true; // takes the chains, never returns them
    serial.write(new Uint8Array(128).fill(0x41));
    await r.model.settle();
    assert.is(port.writable, 0, "both buffers with the device");
    r.dev.faults.loseChains = false; // behaves again: only a reset gets the buffers back
    assert.ok(await until(r, () => port.stats().txTimeouts === 1 && port.live && port.writable === 128), `writable ${port.writable}, timeouts ${port.stats().txTimeouts}`);
    await vd.settled();
    assert.is(vd.state, "live");
    assert.ok(errors.includes("DeviceRemovedError"), "the Serial heard the reset");
    serial.write("after");
    await r.model.settle();
    assert.ok(model.text.endsWith("after"), "writes reach the device again");
    assert.is(port.stats().txTimeouts, 1, "counted once");
    serial.close();
    await finish(r);
  });

  test(`v${version}: no timer while nothing is out; a device that returns buffers is never reset`, async () => {
    const model = new ConsoleDeviceModel();
    const r = rig({ version, device: model });
    const driver = new ConsoleDriver({ txTimeoutMs: 20 });
    await r.bus.register(driver);
    await r.bus.scan();
    await r.model.settle();
    const port = driver.ports()[0]!;
    const serial = driver.open({});
    const resets = r.dev.counters.resets;
    for (let i = 0; i < 5; i++) {
      serial.write(`line ${i}\n`);
      await r.model.settle();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await until(r, () => r.model.timers.active === 0, 200);
    assert.is(r.model.timers.active, 0, "the sweep stops once every buffer is back");
    assert.is(port.stats().txTimeouts, 0);
    assert.is(r.dev.counters.resets, resets);
    serial.close();
    await finish(r);
  });
}

test.run();
