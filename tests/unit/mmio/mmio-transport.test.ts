// The virtio-mmio transport's register sequences (VIRTIO 1.2 §4.2), checked access by
// access against a register recorder.

import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Platform } from "../../../platform/platform.js";
import { BadMagicError, QueueAddressError, UnsupportedVersionError } from "../../../transports/mmio/errors.js";
import { MmioTransport, probeMmio } from "../../../transports/mmio/mmio-transport.js";
import { MmioReg, MMIO_MAGIC } from "../../../transports/mmio/registers.js";
import { FakeMmio } from "./fake-mmio.js";

const BASE = 0x0a003e00;
const WINDOW = { slot: 31, base: BASE, size: 0x200, irq: 79 };

function setup(version: number, deviceId = 4, magic = MMIO_MAGIC): { mmio: FakeMmio; platform: Platform } {
  const mmio = new FakeMmio(BASE);
  mmio.values.set(MmioReg.MagicValue, magic);
  mmio.values.set(MmioReg.Version, version);
  mmio.values.set(MmioReg.DeviceID, deviceId);
  mmio.values.set(MmioReg.VendorID, 0x554d4551);
  return { mmio, platform: { mmio } as unknown as Platform };
}

function probe(version: number): { mmio: FakeMmio; t: MmioTransport } {
  const { mmio, platform } = setup(version);
  const t = probeMmio(platform, WINDOW);
  assert.ok(t);
  mmio.log.length = 0;
  return { mmio, t: t as MmioTransport };
}

test("probe: bad magic is a BadMagicError carrying the value", () => {
  const { platform } = setup(2, 4, 0x12345678);
  try {
    probeMmio(platform, WINDOW);
    assert.unreachable("probe should throw");
  } catch (e) {
    assert.instance(e, BadMagicError);
    assert.is((e as BadMagicError).value, 0x12345678);
    assert.is((e as BadMagicError).base, BASE);
    assert.match((e as Error).message, "0x12345678");
  }
});

test("probe: versions other than 1 and 2 are refused", () => {
  for (const version of [0, 3, 0xffffffff]) {
    const { platform } = setup(version);
    try {
      probeMmio(platform, WINDOW);
      assert.unreachable("probe should throw");
    } catch (e) {
      assert.instance(e, UnsupportedVersionError);
      assert.is((e as UnsupportedVersionError).version, version);
    }
  }
});

test("probe: device ID 0 is an empty slot", () => {
  const { platform } = setup(2, 0);
  assert.is(probeMmio(platform, WINDOW), null);
});

test("probe: identity, layout, location; every register access is 32-bit", () => {
  for (const version of [1, 2]) {
    const { mmio, platform } = setup(version);
    const t = probeMmio(platform, WINDOW) as MmioTransport;
    assert.is(t.version, version);
    assert.is(t.deviceId, 4);
    assert.is(t.vendorId, 0x554d4551);
    assert.is(t.irq, 79);
    assert.is(t.location, "mmio@0x0a003e00");
    assert.is(t.queueLayout.contiguous, version === 1);
    assert.is(t.queueLayout.usedAlign, version === 1 ? 4096 : 4);
    assert.ok(mmio.log.every((a) => a.width === 32));
  }
});

test("legacy probe writes GuestPageSize = 4096 once; modern never", () => {
  const legacy = setup(1);
  probeMmio(legacy.platform, WINDOW);
  assert.equal(legacy.mmio.writes(), [[MmioReg.GuestPageSize, 4096]]);
  const modern = setup(2);
  probeMmio(modern.platform, WINDOW);
  assert.equal(modern.mmio.writes(), []);
});

test("features: 64 bits through the selectors", () => {
  const { mmio, t } = probe(2);
  mmio.values.set(MmioReg.DeviceFeatures, 0x30000000); // both words read the same register here
  const features = t.deviceFeatures();
  assert.is(features, (0x30000000n << 32n) | 0x30000000n);
  assert.equal(mmio.writes(), [
    [MmioReg.DeviceFeaturesSel, 0],
    [MmioReg.DeviceFeaturesSel, 1],
  ]);
  mmio.log.length = 0;
  t.setDriverFeatures((1n << 32n) | (1n << 29n));
  assert.equal(mmio.writes(), [
    [MmioReg.DriverFeaturesSel, 0],
    [MmioReg.DriverFeatures, 1 << 29],
    [MmioReg.DriverFeaturesSel, 1],
    [MmioReg.DriverFeatures, 1],
  ]);
});

test("legacy driver features: the high word is not written when it is zero", () => {
  const { mmio, t } = probe(1);
  t.setDriverFeatures(1n << 28n);
  assert.equal(mmio.writes(), [
    [MmioReg.DriverFeaturesSel, 0],
    [MmioReg.DriverFeatures, 1 << 28],
  ]);
});

test("modern queue setup: QueueSel, QueueNum, six address words, QueueReady", () => {
  const { mmio, t } = probe(2);
  t.enableQueue(2, { size: 64, desc: 0x40201000, driver: 0x40201400, device: 0x1_0000_2000 });
  assert.equal(mmio.writes(), [
    [MmioReg.QueueSel, 2],
    [MmioReg.QueueNum, 64],
    [MmioReg.QueueDescLow, 0x40201000],
    [MmioReg.QueueDescHigh, 0],
    [MmioReg.QueueDriverLow, 0x40201400],
    [MmioReg.QueueDriverHigh, 0],
    [MmioReg.QueueDeviceLow, 0x2000],
    [MmioReg.QueueDeviceHigh, 1],
    [MmioReg.QueueReady, 1],
  ]);
});

test("legacy queue setup: GuestPageSize again, QueueSel, QueueNum, QueueAlign, QueuePFN = phys / 4096", () => {
  const { mmio, t } = probe(1);
  t.enableQueue(0, { size: 128, desc: 0x40203000, driver: 0x40203800, device: 0x40204000 });
  assert.equal(mmio.writes(), [
    [MmioReg.GuestPageSize, 4096],
    [MmioReg.QueueSel, 0],
    [MmioReg.QueueNum, 128],
    [MmioReg.QueueAlign, 4096],
    [MmioReg.QueuePFN, 0x40203],
  ]);
});

test("legacy queue setup refuses a block that is not page-aligned, writing nothing", () => {
  const { mmio, t } = probe(1);
  assert.throws(() => t.enableQueue(0, { size: 8, desc: 0x40203010, driver: 0, device: 0 }), (e: unknown) => e instanceof QueueAddressError);
  assert.equal(mmio.writes(), []);
});

test("queue in use / disable: QueuePFN on v1, QueueReady on v2", () => {
  for (const version of [1, 2]) {
    const { mmio, t } = probe(version);
    const reg = version === 1 ? MmioReg.QueuePFN : MmioReg.QueueReady;
    assert.is(t.queueInUse(1), false);
    mmio.values.set(reg, 1);
    assert.is(t.queueInUse(1), true);
    mmio.log.length = 0;
    t.disableQueue(1);
    assert.equal(mmio.writes(), [
      [MmioReg.QueueSel, 1],
      [reg, 0],
    ]);
  }
});

test("queueMaxSize selects the queue and reads QueueNumMax", () => {
  const { mmio, t } = probe(2);
  mmio.values.set(MmioReg.QueueNumMax, 1024);
  assert.is(t.queueMaxSize(3), 1024);
  assert.equal(mmio.writes(), [[MmioReg.QueueSel, 3]]);
});

test("notify, interrupt status and ack, status and reset", () => {
  const { mmio, t } = probe(2);
  mmio.values.set(MmioReg.InterruptStatus, 3);
  assert.is(t.interruptStatus(), 3);
  t.ackInterrupt(3);
  t.notify(5);
  t.setStatus(0x0f);
  t.reset();
  assert.equal(mmio.writes(), [
    [MmioReg.InterruptACK, 3],
    [MmioReg.QueueNotify, 5],
    [MmioReg.Status, 0x0f],
    [MmioReg.Status, 0],
  ]);
});

test("ConfigGeneration: read on v2, 0 without any access on v1", () => {
  const modern = probe(2);
  modern.mmio.values.set(MmioReg.ConfigGeneration, 7);
  assert.is(modern.t.configGeneration(), 7);
  const legacy = probe(1);
  legacy.mmio.values.set(MmioReg.ConfigGeneration, 7);
  assert.is(legacy.t.configGeneration(), 0);
  assert.equal(legacy.mmio.log, []);
});

test("config space at 0x100 uses the width asked", () => {
  const { mmio, t } = probe(2);
  t.readConfig8(1);
  t.readConfig16(2);
  t.readConfig32(4);
  t.writeConfig8(8, 1);
  t.writeConfig16(10, 2);
  t.writeConfig32(12, 3);
  assert.equal(
    mmio.log.map((a) => [a.op, a.width, a.offset]),
    [
      ["r", 8, 0x101],
      ["r", 16, 0x102],
      ["r", 32, 0x104],
      ["w", 8, 0x108],
      ["w", 16, 0x10a],
      ["w", 32, 0x10c],
    ],
  );
});

test.run();
