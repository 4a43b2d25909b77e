// The virtio input driver against the host model's input device, in both transport
// versions: the config select space read and checked, the eventq kept full, events to
// onEvent or read(), LEDs through the statusq, and a device that breaks §5.8.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { InputDeviceModel, keyboardModelOptions, tabletModelOptions, type InputDeviceModelOptions } from "../../../platform/host/devices/input-device.js";
import { InputDriver, type InputDriverOptions } from "../../../drivers/input/input-driver.js";
import { InputDevice } from "../../../drivers/input/input-device.js";
import type { InputEvent } from "../../../drivers/input/input-port.js";
import { EV, eventCodeName, eventTypeName, keyCode } from "../../../drivers/input/event-codes.js";
import { InputBusyError, InputClosedError, InputConfigError, InputEventError } from "../../../drivers/input/errors.js";
import { queryConfig } from "../../../drivers/input/input-config.js";
import { finish, rig, VERSIONS } from "../core/rig.js";

async function bound(version: 1 | 2, model = new InputDeviceModel(), options: InputDriverOptions = {}) {
  const r = rig({ version, device: model });
  const driver = new InputDriver(options);
  await r.bus.register(driver);
  await r.bus.scan();
  await r.model.settle();
  return { r, model, driver, port: driver.ports()[0], vd: r.bus.device(31)! };
}

const KEY_A = 30;
const KEY_B = 48;
const KEY_C = 46;
const brief = (e: InputEvent) => `${eventTypeName(e.type)} ${eventCodeName(e.type, e.code)} ${e.value}`;

test("event names: EV_KEY KEY_A, BTN_LEFT, SYN_REPORT, numbers for the unknown", () => {
  assert.is(brief({ type: EV.KEY, code: KEY_A, value: 1 }), "EV_KEY KEY_A 1");
  assert.is(eventCodeName(EV.KEY, 0x110), "BTN_LEFT");
  assert.is(eventCodeName(EV.KEY, 59), "KEY_F1");
  assert.is(eventCodeName(EV.SYN, 0), "SYN_REPORT");
  assert.is(eventTypeName(0x1e), "30");
  assert.is(eventCodeName(EV.KEY, 700), "700");
  assert.is(keyCode("KEY_B"), KEY_B);
  assert.is(keyCode("c"), KEY_C);
});

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: probe reads name, serial, ids and event bits; the eventq is kept full`, async () => {
    const { r, model, driver, vd } = await bound(version);
    assert.is(vd.info().status, "DRIVER_OK");
    const kbd = driver.open({});
    assert.is(kbd.name, "virtio-xs model keyboard");
    assert.is(kbd.serial, "kbd-0001");
    assert.equal(kbd.ids, { bustype: 6, vendor: 0x0627, product: 1, version: 1 });
    assert.equal(kbd.bits.get(EV.LED), [0, 1, 2]);
    assert.is(kbd.bits.get(EV.KEY)?.length, 127);
    assert.ok(kbd.supports(EV.KEY, KEY_A));
    assert.not.ok(kbd.supports(EV.ABS));
    assert.is(kbd.abs.size, 0);
    assert.is(model.buffersHeld, 64, "every event buffer is with the device");
    kbd.close();
    await finish(r);
  });

  test(`${v}: a tablet's absolute axes come from ABS_INFO`, async () => {
    const { r, driver } = await bound(version, new InputDeviceModel(tabletModelOptions()));
    const tab = driver.open({});
    assert.equal([...tab.abs.keys()], [0, 1]);
    assert.equal(tab.abs.get(1), { min: 0, max: 32767, fuzz: 0, flat: 0, res: 0 });
    assert.ok(tab.supports(EV.KEY, 0x110));
    tab.close();
    await finish(r);
  });

  test(`${v}: key presses reach onEvent in order, with EV_SYN after each update; buffers are refilled`, async () => {
    const { r, model, driver } = await bound(version);
    const seen: string[] = [];
    const kbd = driver.open({ onEvent: (e) => seen.push(brief(e)) });
    for (const code of [KEY_A, KEY_B, KEY_C]) {
      model.key(code, true);
      model.key(code, false);
    }
    await r.model.settle();
    assert.equal(seen, [
      "EV_KEY KEY_A 1", "EV_SYN SYN_REPORT 0", "EV_KEY KEY_A 0", "EV_SYN SYN_REPORT 0",
      "EV_KEY KEY_B 1", "EV_SYN SYN_REPORT 0", "EV_KEY KEY_B 0", "EV_SYN SYN_REPORT 0",
      "EV_KEY KEY_C 1", "EV_SYN SYN_REPORT 0", "EV_KEY KEY_C 0", "EV_SYN SYN_REPORT 0",
    ]);
    assert.is(kbd.read(), undefined, "onEvent took them all");
    assert.is(model.buffersHeld, 64);
    kbd.close();
    await finish(r);
  });

  test(`${v}: without onEvent, events queue for read() and onReadable tells how many; negative values survive`, async () => {
    const { r, model, driver } = await bound(version, new InputDeviceModel({ ...tabletModelOptions(), bits: { [EV.REL]: [0, 1] } }));
    const counts: number[] = [];
    const dev = driver.open({ onReadable: (n) => counts.push(n) });
    model.inject([{ type: EV.REL, code: 0, value: -5 }, { type: EV.REL, code: 1, value: 7 }]);
    await r.model.settle();
    assert.equal(counts, [3]);
    assert.is(dev.readable, 3);
    assert.equal(dev.read(), { type: EV.REL, code: 0, value: -5 });
    assert.equal(dev.read(), { type: EV.REL, code: 1, value: 7 });
    assert.equal(dev.read(), { type: EV.SYN, code: 0, value: 0 });
    assert.is(dev.read(), undefined);
    dev.close();
    await finish(r);
  });

  test(`${v}: model: an update longer than the eventq is held for ever, or dropped once the model knows the queue's size (as QEMU drops it)`, async () => {
    const { r, model, driver } = await bound(version, new InputDeviceModel({ ...keyboardModelOptions(), queueMaxSize: 4 }));
    const seen: string[] = [];
    const kbd = driver.open({ onEvent: (e) => seen.push(brief(e)) });
    model.inject([KEY_A, KEY_B, KEY_C, KEY_A, KEY_B].map((code) => ({ type: EV.KEY, code, value: 1 }))); // 6 events with SYN
    model.key(KEY_C, false);
    await r.model.settle();
    assert.equal(seen, [], "the long update blocks the queue: a device holding it");
    assert.is(model.pendingUpdates, 2);
    model.eventqSize = () => r.dev.queue(0).num;
    model.key(KEY_A, false);
    await r.model.settle();
    assert.equal(seen, ["EV_KEY KEY_C 0", "EV_SYN SYN_REPORT 0", "EV_KEY KEY_A 0", "EV_SYN SYN_REPORT 0"]);
    assert.is(model.updatesDropped, 1);
    kbd.close();
    await finish(r);
  });

  test(`${v}: unread events beyond maxQueued drop the oldest, counted`, async () => {
    const { r, model, driver, port } = await bound(version, new InputDeviceModel(), { maxQueued: 4 });
    for (let i = 0; i < 5; i++) model.key(KEY_A + i, true);
    await r.model.settle();
    assert.is(port!.queued, 4);
    assert.is(port!.stats().dropped, 6);
    const dev = driver.open({});
    assert.is(dev.read()?.code, KEY_A + 3);
    dev.close();
    await finish(r);
  });

  test(`${v}: setLed() sends EV_LED on the statusq`, async () => {
    const { r, model, driver } = await bound(version);
    const kbd = driver.open({});
    kbd.setLed(1, true);
    kbd.setLed(0, false);
    await r.model.settle();
    assert.equal(model.statusEvents, [
      { type: EV.LED, code: 1, value: 1 },
      { type: EV.LED, code: 0, value: 0 },
    ]);
    assert.throws(() => kbd.setLed(-1, true), RangeError);
    kbd.close();
    await finish(r);
  });

  test(`${v}: a device that reports 8 used bytes for a status buffer (as QEMU 7.2 does) is within the rules`, async () => {
    const { r, model, driver, vd } = await bound(version);
    model.statusUsedLength = 8;
    const errors: Error[] = [];
    const kbd = driver.open({ onError: (e) => errors.push(e) });
    for (let i = 0; i < 20; i++) {
      kbd.setLed(2, i % 2 === 0);
      await r.model.settle();
    }
    assert.is(model.statusEvents.length, 20);
    assert.equal(errors, []);
    assert.is(vd.error, null);
    kbd.close();
    await finish(r);
  });

  test(`${v}: a broken statusq stops LED writes only; events keep coming`, async () => {
    const { r, model, driver } = await bound(version);
    const errors: Error[] = [];
    const seen: string[] = [];
    const kbd = driver.open({ onEvent: (e) => seen.push(brief(e)), onError: (e) => errors.push(e) });
    r.dev.faults.usedLenExtra = 100; // beyond the chain's 8 writable bytes
    kbd.setLed(0, true);
    await r.model.settle();
    r.dev.faults.usedLenExtra = 0;
    assert.is(errors[0]?.name, "RingError");
    assert.throws(() => kbd.setLed(0, false), (e: unknown) => (e as Error).name === "RingError");
    model.key(KEY_A, true);
    await r.model.settle();
    assert.equal(seen, ["EV_KEY KEY_A 1", "EV_SYN SYN_REPORT 0"]);
    r.model.clearViolations();
    kbd.close();
    await finish(r);
  });

  test(`${v}: one InputDevice at a time; close() twice; methods after close throw`, async () => {
    const { r, driver, port } = await bound(version);
    const a = driver.open({});
    assert.throws(() => driver.open({}), (e: unknown) => e instanceof InputBusyError);
    a.close();
    a.close();
    assert.throws(() => a.read(), (e: unknown) => e instanceof InputClosedError);
    assert.throws(() => a.name, (e: unknown) => e instanceof InputClosedError);
    assert.throws(() => driver.open({ onEvent: 1 as unknown as () => void }), TypeError);
    assert.is(port!.opened, false);
    const b = new InputDevice({ port: port! });
    b.close();
    await finish(r);
  });

  test(`${v}: a config size above 128 fails the probe with InputConfigError; the bus stays up`, async () => {
    const model = new InputDeviceModel();
    model.sizeOverride = 200;
    const r = rig({ version, device: model });
    const driver = new InputDriver();
    await r.bus.register(driver);
    await r.bus.scan();
    const vd = r.bus.device(31)!;
    assert.is(vd.info().status, "FAILED");
    assert.instance(vd.error, InputConfigError);
    assert.match(vd.error!.message, /size 200/);
    assert.is((vd.error as InputConfigError).select, 1);
    await finish(r);
  });

  test(`${v}: devids of the wrong size fail the probe`, async () => {
    const opts: InputDeviceModelOptions = keyboardModelOptions();
    const model = new InputDeviceModel(opts);
    const r = rig({ version, device: model });
    const driver = new InputDriver();
    // Answer 4 for every select: ID_NAME and ID_SERIAL are fine with it, DEVIDS is not.
    model.sizeOverride = 4;
    await r.bus.register(driver);
    await r.bus.scan();
    const vd = r.bus.device(31)!;
    assert.instance(vd.error, InputConfigError);
    assert.match(vd.error!.message, /devids must be 8 bytes/);
    await finish(r);
  });

  test(`${v}: a config size that cuts a 16- or 32-bit field is an InputConfigError, not a RangeError`, async () => {
    const { r, model, vd } = await bound(version, new InputDeviceModel(tabletModelOptions()));
    // ID_DEVIDS (0x03) has 16-bit fields, ABS_INFO (0x12) 32-bit ones (§5.8.5).
    model.sizeOverride = 5;
    for (const [select, width] of [[0x03, 2], [0x12, 4]] as const) {
      assert.throws(
        () => queryConfig(vd, select, 0, { width }),
        (e: unknown) => e instanceof InputConfigError && /size 5/.test(e.message) && /multiple of the \d-byte field width/.test(e.message),
      );
    }
    model.sizeOverride = 6;
    assert.throws(() => queryConfig(vd, 0x12, 0, { width: 4 }), (e: unknown) => e instanceof InputConfigError);
    assert.is(queryConfig(vd, 0x03, 0, { width: 2 }).length, 6);
    await finish(r);
  });

  test(`${v}: a short event is dropped with InputEventError; later events still arrive`, async () => {
    const { r, model, driver, vd } = await bound(version);
    const seen: string[] = [];
    const errors: Error[] = [];
    const kbd = driver.open({ onEvent: (e) => seen.push(brief(e)), onError: (e) => errors.push(e) });
    model.shortEventLength = 4;
    model.key(KEY_A, true);
    await r.model.settle();
    model.shortEventLength = undefined;
    model.key(KEY_B, true);
    await r.model.settle();
    assert.equal(seen, ["EV_KEY KEY_B 1", "EV_SYN SYN_REPORT 0"]);
    assert.is(errors.length, 2);
    assert.instance(errors[0], InputEventError);
    assert.instance(vd.error, InputEventError);
    assert.is(model.buffersHeld, 64, "bad buffers reposted too");
    kbd.close();
    await finish(r);
  });

  test(`${v}: a used length beyond the buffer breaks the ring; onError; restart recovers`, async () => {
    const { r, model, driver, vd } = await bound(version);
    const errors: Error[] = [];
    const seen: string[] = [];
    const kbd = driver.open({ onEvent: (e) => seen.push(brief(e)), onError: (e) => errors.push(e) });
    r.dev.faults.usedLenExtra = 8;
    model.key(KEY_A, true);
    await r.model.settle();
    r.dev.faults.usedLenExtra = 0;
    assert.is(errors[0]?.name, "RingError");
    assert.equal(seen, []);
    r.model.clearViolations();
    assert.ok(await vd.restart());
    await r.model.settle();
    model.key(KEY_C, true);
    await r.model.settle();
    assert.equal(seen, ["EV_KEY KEY_C 1", "EV_SYN SYN_REPORT 0"]);
    kbd.close();
    await finish(r);
  });

  test(`${v}: DEVICE_NEEDS_RESET: re-read and re-posted; the same InputDevice gets events again`, async () => {
    const { r, model, driver, vd, port } = await bound(version);
    const seen: string[] = [];
    const errors: Error[] = [];
    const kbd = driver.open({ onEvent: (e) => seen.push(brief(e)), onError: (e) => errors.push(e) });
    r.dev.needsReset();
    await r.model.settle();
    await vd.settled();
    await r.model.settle();
    assert.is(errors[0]?.name, "DeviceRemovedError");
    assert.is(vd.info().status, "DRIVER_OK");
    assert.is(driver.ports()[0], port);
    assert.is(model.buffersHeld, 64);
    model.key(KEY_B, false);
    await r.model.settle();
    assert.equal(seen, ["EV_KEY KEY_B 0", "EV_SYN SYN_REPORT 0"]);
    assert.is(kbd.name, "virtio-xs model keyboard");
    kbd.close();
    await finish(r);
  });

  test(`${v}: unbind tells onError and frees every buffer`, async () => {
    const { r, driver } = await bound(version);
    const errors: Error[] = [];
    const kbd = driver.open({ onError: (e) => errors.push(e) });
    await r.bus.unregister(driver);
    assert.is(errors[0]?.name, "DeviceRemovedError");
    assert.throws(() => kbd.setLed(0, true), (e: unknown) => (e as Error).name === "DeviceRemovedError");
    kbd.close();
    assert.is(driver.ports().length, 0);
    await finish(r);
  });
}

test(`v2: a config generation that never settles fails the probe cleanly`, async () => {
  const model = new InputDeviceModel();
  const r = rig({ version: 2, device: model });
  r.dev.faults.configGenerationEvery = 2;
  const driver = new InputDriver();
  await r.bus.register(driver);
  await r.bus.scan();
  const vd = r.bus.device(31)!;
  assert.is(vd.info().status, "FAILED");
  assert.is(vd.error?.name, "ConfigGenerationError");
  await finish(r);
});

test.run();
