// The ECMA-419 flash partition over a BlockDevice, synchronous by polling the used ring
// (the model serves requests inside the notify, as QEMU's I/O threads do while the CPU
// spins): status, read (count or buffer), unaligned writes merged into whole sectors,
// eraseBlock to 0xFF, writes flushed (durable when they return) and close() flushing,
// modes, options checked up front, close safe twice, a device that never answers.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { FlashClosedError, FlashStorage, openFlash } from "../../../drivers/blk/flash-storage.js";
import { BlkReadOnlyError } from "../../../drivers/blk/errors.js";
import { RequestTimeoutError } from "../../../drivers/virtio/errors.js";
import { finish, VERSIONS } from "../core/rig.js";
import { blkRig } from "./blk-rig.js";

const SYNC = { processing: "sync" } as const;

async function syncRig(version: 1 | 2, disk = {}) {
  const r = await blkRig(version, disk, {}, SYNC);
  await r.model.settle();
  return { ...r, platform: r.model.platform };
}

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: status, read by count and into a buffer, synchronously`, async () => {
    const r = await syncRig(version);
    const flash = openFlash(r.driver, { path: "blk0", platform: r.platform });
    assert.equal(flash.status(), { size: 256 * 512, blockLength: 4096, blocks: 32 });
    const got = flash.read(1000, 777);
    assert.instance(got, ArrayBuffer);
    assert.equal(new Uint8Array(got), r.disk.image.subarray(777, 1777));
    const into = new Uint8Array(1024);
    assert.is(flash.read(into, 2048), 1024);
    assert.equal(into, r.disk.image.subarray(2048, 3072));
    flash.close();
    await finish(r);
  });

  test(`${v}: unaligned writes change exactly their bytes; eraseBlock gives 0xFF; each is flushed`, async () => {
    const r = await syncRig(version);
    const before = r.disk.image.slice();
    const flash = new FlashStorage({ device: r.blk, platform: r.platform, offset: 8192, size: 65536 });
    const data = Uint8Array.from({ length: 700 }, (_, i) => 255 - (i & 0xff));
    flash.write(data, 300);
    assert.is(r.disk.counters.unflushedBytes, 0, "durable when write() returns");
    flash.write(new Uint8Array([1, 2, 3]), 1020);
    const expected = before.slice();
    expected.set(data, 8192 + 300);
    expected.set([1, 2, 3], 8192 + 1020);
    assert.equal(r.disk.image, expected);
    flash.eraseBlock(2, 4);
    expected.fill(0xff, 8192 + 2 * 4096, 8192 + 4 * 4096);
    assert.equal(r.disk.image, expected);
    flash.eraseBlock(0);
    expected.fill(0xff, 8192, 8192 + 4096);
    assert.equal(r.disk.image, expected);
    assert.is(r.disk.counters.unflushedBytes, 0);
    assert.is(r.disk.counters.flushes, 4, "one FLUSH per write and per erase");
    assert.equal(new Uint8Array(flash.read(4, 4090)), new Uint8Array(4).fill(0xff));
    flash.close();
    await finish(r);
  });

  test(`${v}: mode "r", bad ranges, close twice, methods after close throw`, async () => {
    const r = await syncRig(version);
    const flash = openFlash(r.driver, { path: "blk0", mode: "r", platform: r.platform });
    assert.throws(() => flash.write(new Uint8Array(4), 0), (e: unknown) => e instanceof BlkReadOnlyError);
    assert.throws(() => flash.eraseBlock(0), (e: unknown) => e instanceof BlkReadOnlyError);
    assert.throws(() => flash.read(10, 256 * 512 - 5), RangeError);
    assert.throws(() => flash.read(-1, 0), RangeError);
    flash.read(8, 0);
    flash.close();
    flash.close();
    assert.is(r.disk.counters.flushes, 0, "nothing written: close() sends no FLUSH");
    assert.throws(() => flash.status(), (e: unknown) => e instanceof FlashClosedError);
    assert.throws(() => flash.read(1, 0), (e: unknown) => e instanceof FlashClosedError);
    assert.throws(() => flash.write(new Uint8Array(1), 0), (e: unknown) => e instanceof FlashClosedError);
    await finish(r);
  });
}

test("options are checked before anything else", async () => {
  const r = await blkRig(2, { readOnly: true });
  const platform = r.model.platform;
  assert.throws(() => openFlash(r.driver, { path: "disk", platform }), /must name a block device/);
  assert.throws(() => openFlash(r.driver, { path: "blk3", platform }), /no block device 3/);
  assert.throws(() => new FlashStorage({ device: r.blk, platform, mode: "w" as "r" }), /mode/);
  assert.throws(() => new FlashStorage({ device: r.blk, platform, mode: "r", format: "string" as "buffer" }), /format/);
  assert.throws(() => new FlashStorage({ device: r.blk, platform, mode: "r", offset: 100 }), /offset/);
  assert.throws(() => new FlashStorage({ device: r.blk, platform, mode: "r", size: 1 << 30 }), /size/);
  assert.throws(() => new FlashStorage({ device: r.blk, platform, mode: "r", blockLength: 1000 }), /blockLength/);
  assert.throws(() => new FlashStorage({ device: r.blk, platform: undefined as never, mode: "r" }), /platform/);
  assert.throws(() => new FlashStorage({ device: r.blk, platform }), (e: unknown) => e instanceof BlkReadOnlyError, "r+ on a read-only disk");
  const flash = new FlashStorage({ device: r.blk, platform, mode: "r", target: "mine" });
  assert.is(flash.status().blocks, 32);
  assert.is(flash.target, "mine");
  await finish(r);
});

test("a device that never answers: RequestTimeoutError; its memory is freed only once the reset gives it back", async () => {
  const r = await blkRig(2); // async processing: nothing completes while the CPU spins
  await r.model.settle();
  const platform = r.model.platform;
  const used = r.model.dma.stats().used;
  const flash = new FlashStorage({ device: r.blk, platform, mode: "r", timeoutMs: 20 });
  assert.throws(() => flash.read(512, 0), (e: unknown) => e instanceof RequestTimeoutError);
  assert.ok(r.model.dma.stats().used > used, "the request's area stays with the device");
  flash.close();
  assert.ok(r.model.dma.stats().used > used, "close() does not free what the device holds");
  await finish(r); // shutdown resets the device: the chain comes back, the area is freed
});

test.run();
