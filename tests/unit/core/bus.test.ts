// The bus as Linux's virtio bus: scan finds devices (empty slots skipped, windows that
// are not virtio-mmio reported), drivers bind by device ID whenever they and the
// device meet, and unbinding resets the device and gives everything back.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDevice } from "../../../platform/host/index.js";
import { BadMagicError } from "../../../transports/mmio/errors.js";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { VirtioBus } from "../../../drivers/virtio/bus.js";
import type { TransportProvider } from "../../../drivers/virtio/transport-provider.js";
import { mmioTransports } from "../../../transports/mmio/provider.js";
import { finish, rig, VERSIONS } from "./rig.js";
import { TestDevice, TestDriver } from "./test-device.js";

for (const version of VERSIONS) {
  test(`v${version}: scan skips empty slots and lists devices in slot order`, async () => {
    const r = rig({ version });
    r.model.attach(3, new TestDevice(), { version });
    r.model.attach(17, new RngDevice(), { version });
    await r.bus.scan();
    assert.equal(r.bus.devices().map((d) => [d.slot, d.deviceId, d.type, d.status, d.driver]), [
      [3, 42, "id-42", "RESET", null],
      [17, 4, "rng", "RESET", null],
      [31, 4, "rng", "RESET", null],
    ]);
    assert.equal(r.bus.list(4).map((d) => d.slot), [17, 31]);
    assert.is(r.bus.device(5), undefined);
    await finish(r);
  });

  test(`v${version}: a driver registered after the scan binds every matching device`, async () => {
    const r = rig({ version });
    r.model.attach(17, new RngDevice(), { version });
    r.model.attach(3, new TestDevice(), { version });
    await r.bus.scan();
    const rng = new RngDriver();
    await r.bus.register(rng);
    assert.equal(r.bus.devices().map((d) => [d.slot, d.status, d.driver]), [
      [3, "RESET", null],
      [17, "DRIVER_OK", "virtio-rng"],
      [31, "DRIVER_OK", "virtio-rng"],
    ]);
    assert.is(rng.devices().length, 2);
    await finish(r);
  });

  test(`v${version}: unregister resets the device, removes the driver and frees its memory`, async () => {
    const r = rig({ version, device: new TestDevice() });
    const driver = new TestDriver();
    await r.bus.register(driver);
    await r.bus.scan();
    assert.ok(r.model.dma.stats().used > 0);
    const resetsBefore = r.dev.counters.resets;
    await r.bus.unregister(driver);
    assert.equal(driver.calls, ["probe", "ready", "remove:unbind"]);
    assert.is(r.dev.counters.resets, resetsBefore + 1, "reset on unbind");
    assert.is(r.model.platform.mmio.read32(0x0a003e00 + 0x70), 0);
    assert.is(r.model.dma.stats().used, 0, "rings freed");
    const info = r.bus.devices()[0]!;
    assert.equal([info.status, info.driver, info.features], ["RESET", null, 0n]);
    // And it binds again, from scratch.
    await r.bus.register(driver);
    assert.is(r.bus.devices()[0]!.status, "DRIVER_OK");
    assert.equal(driver.calls, ["probe", "ready", "remove:unbind", "probe", "ready"]);
    await finish(r);
  });

  test(`v${version}: unbound rng requests fail with DeviceRemovedError; the handle stays closed`, async () => {
    const r = rig({ version, device: new RngDevice({ delayTurns: 50 }) });
    const rng = new RngDriver();
    await r.bus.register(rng);
    await r.bus.scan();
    const handle = rng.devices()[0]!;
    const pending = handle.read(64).then(
      () => "resolved",
      (e: Error) => e.name,
    );
    await r.bus.unregister(rng);
    assert.is(await pending, "DeviceRemovedError");
    assert.is(await handle.read(4).catch((e: Error) => e.name), "DeviceRemovedError");
    assert.is(rng.devices().length, 0);
    await finish(r);
  });

  test(`v${version}: the first registered driver for an ID wins; the next one takes over after unregister`, async () => {
    const r = rig({ version });
    const first = new RngDriver();
    const second = new RngDriver();
    await r.bus.register(first);
    await r.bus.register(second);
    await r.bus.scan();
    assert.is(first.devices().length, 1);
    assert.is(second.devices().length, 0);
    await r.bus.unregister(first);
    assert.is(second.devices().length, 1);
    assert.is(r.bus.devices()[0]!.status, "DRIVER_OK");
    await finish(r);
  });
}

test("a window that does not answer the magic is reported, not fatal", async () => {
  const r = rig({ version: 2 });
  const window = r.model.board.virtioMmio[4]!;
  r.model.bus.remap(window.base, { read: () => 0xdeadbeef, write: () => {} });
  await r.bus.register(new RngDriver());
  await r.bus.scan();
  const problems = r.bus.problems();
  assert.is(problems.length, 1);
  assert.is(problems[0]!.slot, 4);
  assert.instance(problems[0]!.error, BadMagicError);
  assert.is((problems[0]!.error as BadMagicError).value, 0xdeadbeef);
  assert.is(r.bus.devices().length, 1);
  assert.is(r.bus.devices()[0]!.status, "DRIVER_OK");
  await finish(r);
});

test("scanning twice finds nothing new and keeps bindings", async () => {
  const r = rig({ version: 2 });
  const rng = new RngDriver();
  await r.bus.register(rng);
  await r.bus.scan();
  const resets = r.dev.counters.resets;
  await r.bus.scan();
  assert.is(r.dev.counters.resets, resets);
  assert.is(r.bus.devices().length, 1);
  await finish(r);
});

test("the core knows no transport: a bus with no provider refuses to scan", async () => {
  const r = rig({ version: 2 });
  const bare = new VirtioBus(r.model.platform);
  try {
    await bare.scan();
    assert.unreachable("scan without a provider must throw");
  } catch (error) {
    assert.match((error as Error).message, /no transport provider/);
  }
  assert.equal(r.bus.providers(), ["mmio", "pci"]);
  await finish(r);
});

test("every provider's candidates are probed once; a failing probe is a problem, not a crash", async () => {
  const r = rig({ version: 2 });
  let probes = 0;
  const broken: TransportProvider = {
    name: "test",
    candidates: () => [
      { slot: 40, base: 0x1000, probe: () => { probes++; throw new Error("bad place"); } },
      { slot: 41, base: 0x2000, probe: () => { probes++; return null; } },
    ],
  };
  const bus = new VirtioBus(r.model.platform, {}, [mmioTransports, broken]);
  const rng = new RngDriver();
  await bus.register(rng);
  await bus.scan();
  await bus.scan();
  assert.equal(bus.providers(), ["mmio", "test"]);
  assert.equal(bus.problems().map((p) => [p.slot, p.error.message]), [[40, "bad place"]]);
  assert.is(probes, 4, "unknown places are probed again at each scan");
  assert.equal(bus.devices().map((d) => [d.slot, d.status]), [[31, "DRIVER_OK"]]);
  await bus.shutdown();
  await finish(r);
});

test.run();
