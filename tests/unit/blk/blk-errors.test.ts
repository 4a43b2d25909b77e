// The block driver never trusts the device and never sends what it must not: bad
// ranges and writes to a read-only disk fail before anything is sent; bad status
// bytes, short and overlong used lengths, bad configuration values and a hung device
// give clear errors, and the driver stays up.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { BlkConfig } from "../../../drivers/blk/blk-spec.js";
import {
  BlkBufferError, BlkConfigError, BlkRangeError, BlkReadOnlyError, BlkStatusError, BlkUnsupportedError, BlkUsedLengthError,
} from "../../../drivers/blk/errors.js";
import { DeviceBrokenError, DeviceRemovedError, RequestTimeoutError } from "../../../drivers/virtio/errors.js";
import { RingError } from "../../../ring/errors.js";
import { finish, VERSIONS } from "../core/rig.js";
import { blkRig, rejection } from "./blk-rig.js";

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: a bad range is refused before anything is sent`, async () => {
    const r = await blkRig(version);
    const notified = r.dev.counters.notifications;
    const bad: [number, number][] = [[-1, 1], [0, 0], [0, -2], [1.5, 1], [0, 2.5], [256, 1], [250, 7], [Number.NaN, 1], [2 ** 60, 1]];
    for (const [lba, count] of bad) {
      const e = await rejection(r.blk.read(lba, count));
      assert.instance(e, BlkRangeError, `read(${lba}, ${count})`);
      assert.is((e as BlkRangeError).capacity, 256);
    }
    assert.instance(await rejection(r.blk.write(255, new Uint8Array(1024))), BlkRangeError);
    assert.instance(await rejection(r.blk.write(0, new Uint8Array(100))), BlkBufferError);
    assert.instance(await rejection(r.blk.write(0, new Uint8Array(0))), BlkBufferError);
    assert.instance(await rejection(r.blk.read(0, 4, new Uint8Array(1000))), BlkBufferError);
    assert.instance(await rejection(r.blk.discard(200, 100)), BlkRangeError);
    assert.instance(await rejection(r.blk.read("3" as unknown as number, 1)), BlkRangeError);
    assert.is(r.dev.counters.notifications, notified, "no notification");
    assert.is(r.disk.counters.reads + r.disk.counters.writes + r.disk.counters.errors, 0, "no request");
    await finish(r);
  });

  test(`${v}: a read-only disk: writes refused before sending, reads work`, async () => {
    const r = await blkRig(version, { readOnly: true });
    assert.is(r.blk.info.readOnly, true);
    const e = await rejection(r.blk.write(0, new Uint8Array(512)));
    assert.instance(e, BlkReadOnlyError);
    assert.match(e.message, /read-only/);
    assert.instance(await rejection(r.blk.writeZeroes(0, 1)), BlkReadOnlyError);
    assert.instance(await rejection(r.blk.discard(0, 1)), BlkReadOnlyError);
    assert.is(r.disk.counters.writes + r.disk.counters.errors, 0);
    assert.equal(await r.blk.read(0, 1), r.disk.image.subarray(0, 512));
    await r.blk.flush();
    await finish(r);
  });

  test(`${v}: discard and write zeroes not offered: refused before sending`, async () => {
    const r = await blkRig(version, { discard: false, writeZeroes: false });
    const e = await rejection(r.blk.discard(0, 1));
    assert.instance(e, BlkUnsupportedError);
    assert.is((e as BlkUnsupportedError).feature, "DISCARD");
    assert.instance(await rejection(r.blk.writeZeroes(0, 1)), BlkUnsupportedError);
    await finish(r);
  });

  test(`${v}: IOERR, UNSUPP and junk status bytes become BlkStatusError; the driver stays up`, async () => {
    const r = await blkRig(version);
    for (const [status, name] of [[1, "IOERR"], [2, "UNSUPP"], [0x7f, "unknown status 127"]] as const) {
      r.disk.faults.status = status;
      const e = await rejection(r.blk.read(8, 2));
      assert.instance(e, BlkStatusError);
      assert.is((e as BlkStatusError).status, status);
      assert.is((e as BlkStatusError).sector, 8);
      assert.ok(e.message.includes(name), e.message);
    }
    r.disk.faults.status = null;
    r.disk.faults.badSectors.add(20);
    const e = await rejection(r.blk.write(16, new Uint8Array(8 * 512)));
    assert.instance(e, BlkStatusError);
    assert.match(e.message, /OUT at sector 16 failed: IOERR/);
    r.disk.faults.badSectors.clear();
    assert.equal(await r.blk.read(8, 2), r.disk.image.subarray(8 * 512, 10 * 512), "still works");
    assert.is(r.blk.broken, null);
    assert.is(r.blk.stats().failures, 4);
    await finish(r);
  });

  test(`${v}: a used length that leaves out the status byte or the data is an error`, async () => {
    const r = await blkRig(version);
    r.disk.faults.usedLength = 0;
    const e = await rejection(r.blk.flush());
    assert.instance(e, BlkUsedLengthError);
    assert.is((e as BlkUsedLengthError).usedLength, 0);
    r.disk.faults.usedLength = 100;
    const short = await rejection(r.blk.read(0, 1));
    assert.instance(short, BlkUsedLengthError);
    assert.is((short as BlkUsedLengthError).expected, 513);
    r.disk.faults.usedLength = null;
    assert.equal(await r.blk.read(0, 1), r.disk.image.subarray(0, 512));
    await finish(r);
  });

  test(`${v}: straight to and from DMA memory: the same status and used length checks`, async () => {
    const r = await blkRig(version);
    const dma = r.model.platform.dma;
    const buf = dma.alloc(4 * 512, 64);
    r.disk.faults.status = 1;
    const bad = await rejection(r.blk.read(4, 4, buf));
    assert.instance(bad, BlkStatusError);
    assert.is((bad as BlkStatusError).sector, 4);
    assert.instance(await rejection(r.blk.write(4, buf)), BlkStatusError);
    r.disk.faults.status = null;
    r.disk.faults.usedLength = 2048; // the data, not the status byte
    const short = await rejection(r.blk.read(0, 4, buf));
    assert.instance(short, BlkUsedLengthError);
    assert.is((short as BlkUsedLengthError).expected, 2049);
    r.disk.faults.usedLength = null;
    assert.equal(await r.blk.read(0, 4, buf), r.disk.image.subarray(0, 2048));
    assert.is(r.blk.stats().failures, 3);
    assert.is(r.blk.stats().sectorsRead, 4, "only the good read counted");
    dma.free(buf);
    await finish(r);
  });

  test(`${v}: a used length beyond the chain breaks the queue with a RingError, cleanly`, async () => {
    const seen: Error[] = [];
    const r = await blkRig(version, {}, { onError: (e) => seen.push(e) });
    r.dev.faults.usedLenExtra = 4;
    const reads = [r.blk.read(0, 1), r.blk.read(1, 1), r.blk.read(2, 1)];
    const errors = await Promise.all(reads.map(rejection));
    for (const e of errors) assert.instance(e, RingError);
    assert.instance(r.blk.broken, RingError);
    assert.is(seen.length, 1, "onError once");
    assert.is(seen[0], r.blk.broken);
    assert.is(r.bus.devices()[0]!.error, seen[0]!.message, "shown by devices");
    assert.instance(await rejection(r.blk.read(0, 1)), RingError, "fails fast afterwards");
    r.dev.faults.usedLenExtra = 0;
    r.model.clearViolations();
    // A re-initialization brings it back.
    assert.ok(await r.bus.device(31)!.restart());
    assert.is(r.blk.broken, null);
    assert.equal(await r.blk.read(5, 1), r.disk.image.subarray(5 * 512, 6 * 512));
    await finish(r);
  });

  test(`${v}: a hung device: the request times out, the device is re-initialized`, async () => {
    const seen: Error[] = [];
    const r = await blkRig(version, {}, { timeoutMs: 40, onError: (e) => seen.push(e) });
    r.disk.faults.hang = true;
    const e = await rejection(r.blk.read(0, 1));
    assert.instance(e, RequestTimeoutError);
    r.disk.faults.hang = false;
    await r.model.settle();
    // Wait for the restart the timeout started.
    for (let i = 0; i < 50 && !r.blk.ready; i++) await new Promise((done) => setTimeout(done, 5));
    assert.ok(r.blk.ready, "back up");
    assert.equal(await r.blk.read(0, 1), r.disk.image.subarray(0, 512));
    assert.is(r.blk.stats().timeouts, 1);
    assert.instance(seen[0], RequestTimeoutError);
    await finish(r);
  });

  test(`${v}: a hung device, straight into DMA memory: the request times out, the next one works`, async () => {
    const r = await blkRig(version, {}, { timeoutMs: 40 });
    const dma = r.model.platform.dma;
    const buf = dma.alloc(512, 64);
    r.disk.faults.hang = true;
    assert.instance(await rejection(r.blk.read(0, 1, buf)), RequestTimeoutError);
    r.disk.faults.hang = false;
    await r.model.settle();
    for (let i = 0; i < 50 && !r.blk.ready; i++) await new Promise((done) => setTimeout(done, 5));
    assert.ok(r.blk.ready, "back up");
    assert.equal(await r.blk.read(2, 1, buf), r.disk.image.subarray(1024, 1536));
    assert.is(r.blk.stats().timeouts, 1);
    dma.free(buf);
    await finish(r);
  });

  test(`${v}: a device that keeps hanging is given up on after maxRestarts re-initializations`, async () => {
    const seen: Error[] = [];
    const r = await blkRig(version, {}, { timeoutMs: 30, maxRestarts: 1, onError: (e) => seen.push(e) });
    r.disk.faults.hang = true;
    assert.instance(await rejection(r.blk.read(0, 1)), RequestTimeoutError);
    for (let i = 0; i < 50 && !r.blk.ready; i++) await new Promise((done) => setTimeout(done, 5));
    assert.ok(r.blk.ready, "re-initialized once");
    assert.is(r.blk.stats().restarts, 1);
    assert.instance(await rejection(r.blk.read(1, 1)), RequestTimeoutError);
    const device = r.bus.device(31)!;
    await device.settled();
    assert.is(r.blk.stats().restarts, 1, "no second re-initialization");
    assert.is(r.blk.stats().timeouts, 2);
    assert.not.ok(r.blk.ready);
    assert.instance(r.blk.broken, DeviceBrokenError);
    assert.instance(await rejection(r.blk.read(0, 1)), DeviceBrokenError, "fails at once");
    assert.ok(seen.some((e) => e instanceof DeviceBrokenError && /given up/.test(e.message)));
    assert.is(device.driver, null, "reset and unbound: the device holds no chain");
    r.disk.faults.hang = false;
    await finish(r);
  });

  test(`${v}: a reset fails the requests in flight; the same BlockDevice works after; unbind closes it`, async () => {
    const r = await blkRig(version, { delayTurns: 3 });
    const blk = r.blk;
    const flying = [blk.read(0, 8), blk.write(8, new Uint8Array(512)), blk.flush()];
    const device = r.bus.device(31)!;
    assert.ok(await device.restart());
    for (const e of await Promise.all(flying.map(rejection))) assert.instance(e, DeviceRemovedError);
    assert.is(r.driver.devices()[0], blk, "same handle");
    assert.equal(await blk.read(0, 8), r.disk.image.subarray(0, 8 * 512));
    r.dev.needsReset(); // DEVICE_NEEDS_RESET: the core re-initializes by itself
    await r.model.settle();
    for (let i = 0; i < 50 && !blk.ready; i++) await new Promise((done) => setTimeout(done, 2));
    assert.equal(await blk.read(3, 1), r.disk.image.subarray(3 * 512, 4 * 512));
    const last = blk.read(0, 1);
    await r.bus.unregister(r.driver);
    assert.instance(await rejection(last), DeviceRemovedError);
    assert.instance(await rejection(blk.read(0, 1)), DeviceRemovedError, "closed after unbind");
    await finish(r);
  });

  test(`${v}: bad configuration values fail the probe with BlkConfigError`, async () => {
    const cases: [string, (d: import("../../../platform/host/devices/blk-device.js").BlkDevice) => void, RegExp][] = [
      ["blk_size 1000", (d) => d.setConfig32(BlkConfig.blkSize, 1000), /blk_size = 1000/],
      ["blk_size 256", (d) => d.setConfig32(BlkConfig.blkSize, 256), /blk_size = 256/],
      ["seg_max 0", (d) => d.setConfig32(BlkConfig.segMax, 0), /seg_max = 0/],
      ["max_discard_sectors 0", (d) => d.setConfig32(BlkConfig.maxDiscardSectors, 0), /max_discard_sectors = 0/],
      ["capacity 2^60", (d) => d.setConfig32(BlkConfig.capacity + 4, 0x1000_0000), /capacity/],
    ];
    for (const [what, spoil, message] of cases) {
      const { BlkDevice } = await import("../../../platform/host/devices/blk-device.js");
      const disk = new BlkDevice({ capacity: 64, blkSize: 512 });
      spoil(disk);
      const { rig } = await import("../core/rig.js");
      const { BlkDriver } = await import("../../../drivers/blk/blk-driver.js");
      const r = rig({ version, device: disk });
      const driver = new BlkDriver();
      await r.bus.register(driver);
      await r.bus.scan();
      const info = r.bus.devices()[0]!;
      assert.is(info.status, "FAILED", what);
      assert.match(info.error ?? "", message, what);
      assert.instance(r.bus.device(31)!.error, BlkConfigError, what);
      assert.is(driver.devices().length, 0, "no BlockDevice handed out");
      await finish(r);
    }
  });
}

test.run();
