// The ECMA-419-shaped flash partition over a BlockDevice: status, read (count or
// buffer), unaligned writes merged into whole sectors, eraseBlock to 0xFF, modes,
// options checked up front, close safe twice.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { FlashClosedError, FlashStorage, openFlash } from "../../../drivers/blk/flash-storage.js";
import { BlkReadOnlyError } from "../../../drivers/blk/errors.js";
import { finish, VERSIONS } from "../core/rig.js";
import { blkRig, rejection } from "./blk-rig.js";

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: status, read by count and into a buffer`, async () => {
    const r = await blkRig(version);
    const flash = openFlash(r.driver, { path: "blk0" });
    assert.equal(flash.status(), { size: 256 * 512, blockLength: 4096, blocks: 32 });
    const got = await flash.read(1000, 777);
    assert.instance(got, ArrayBuffer);
    assert.equal(new Uint8Array(got), r.disk.image.subarray(777, 1777));
    const into = new Uint8Array(1024);
    assert.is(await flash.read(into, 2048), 1024);
    assert.equal(into, r.disk.image.subarray(2048, 3072));
    flash.close();
    await finish(r);
  });

  test(`${v}: unaligned writes change exactly their bytes; eraseBlock gives 0xFF`, async () => {
    const r = await blkRig(version);
    const before = r.disk.image.slice();
    const flash = new FlashStorage({ device: r.blk, offset: 8192, size: 65536 });
    const data = Uint8Array.from({ length: 700 }, (_, i) => 255 - (i & 0xff));
    const writes = [flash.write(data, 300), flash.write(new Uint8Array([1, 2, 3]), 1020)];
    await Promise.all(writes);
    const expected = before.slice();
    expected.set(data, 8192 + 300);
    expected.set([1, 2, 3], 8192 + 1020);
    assert.equal(r.disk.image, expected);
    await flash.eraseBlock(2, 4);
    expected.fill(0xff, 8192 + 2 * 4096, 8192 + 4 * 4096);
    assert.equal(r.disk.image, expected);
    await flash.eraseBlock(0);
    expected.fill(0xff, 8192, 8192 + 4096);
    assert.equal(r.disk.image, expected);
    assert.equal(new Uint8Array(await flash.read(4, 4090)), new Uint8Array(4).fill(0xff));
    flash.close();
    await finish(r);
  });

  test(`${v}: mode "r", bad ranges, close twice`, async () => {
    const r = await blkRig(version);
    const flash = openFlash(r.driver, { path: "blk0", mode: "r" });
    assert.instance(await rejection(flash.write(new Uint8Array(4), 0)), BlkReadOnlyError);
    assert.instance(await rejection(flash.eraseBlock(0)), BlkReadOnlyError);
    assert.instance(await rejection(flash.read(10, 256 * 512 - 5)), RangeError);
    assert.instance(await rejection(flash.read(-1, 0)), RangeError);
    flash.close();
    flash.close();
    assert.throws(() => flash.status(), (e: unknown) => e instanceof FlashClosedError);
    assert.instance(await rejection(flash.read(1, 0)), FlashClosedError);
    await finish(r);
  });
}

test("options are checked before anything else", async () => {
  const r = await blkRig(2, { readOnly: true });
  assert.throws(() => openFlash(r.driver, { path: "disk" }), /must name a block device/);
  assert.throws(() => openFlash(r.driver, { path: "blk3" }), /no block device 3/);
  assert.throws(() => new FlashStorage({ device: r.blk, mode: "w" as "r" }), /mode/);
  assert.throws(() => new FlashStorage({ device: r.blk, mode: "r", format: "string" as "buffer" }), /format/);
  assert.throws(() => new FlashStorage({ device: r.blk, mode: "r", offset: 100 }), /offset/);
  assert.throws(() => new FlashStorage({ device: r.blk, mode: "r", size: 1 << 30 }), /size/);
  assert.throws(() => new FlashStorage({ device: r.blk, mode: "r", blockLength: 1000 }), /blockLength/);
  assert.throws(() => new FlashStorage({ device: r.blk }), (e: unknown) => e instanceof BlkReadOnlyError, "r+ on a read-only disk");
  assert.is(new FlashStorage({ device: r.blk, mode: "r" }).status().blocks, 32);
  await finish(r);
});

test.run();
