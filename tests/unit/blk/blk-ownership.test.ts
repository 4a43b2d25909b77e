// Memory ownership and request shape (issue 9: blk defects 1, 2, 7, 8). Once a call
// settled its caller owns its memory again; DMA memory a chain points at goes back to the
// pool only after the device returned the chain or was reset; GET_ID's used length must
// cover the ID and the status byte; a queue too small for one request is refused at probe,
// and requests are sized to the queue with or without indirect descriptors.

import { test } from "uvu";
import * as assert from "uvu/assert";
import type { DmaBuffer } from "../../../platform/platform.js";
import { BlkStatusError, BlkUsedLengthError } from "../../../drivers/blk/errors.js";
import { QueueTooSmallError } from "../../../drivers/virtio/errors.js";
import { RequestTimeoutError } from "../../../drivers/virtio/errors.js";
import { RingError } from "../../../ring/errors.js";
import { finish, VERSIONS } from "../core/rig.js";
import { blkRig, rejection, type BlkRig } from "./blk-rig.js";

/** Lets the model and the driver run until nothing moves. */
async function quiet(r: BlkRig): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await r.model.settle();
    await new Promise((done) => setTimeout(done, 1));
  }
}

/**
 * Watches the DMA pool: blocks allocated while `during` runs, and every free of one of
 * them before the device was reset (resets counted by the model) is a violation.
 */
function watchFrees(r: BlkRig) {
  const pool = r.model.dma;
  const alloc = pool.alloc.bind(pool);
  const free = pool.free.bind(pool);
  const taken = new Set<number>();
  const early: number[] = [];
  let watching = true;
  const resets = r.dev.counters.resets;
  pool.alloc = (size: number, align?: number): DmaBuffer => {
    const b = alloc(size, align);
    if (watching) taken.add(b.phys);
    return b;
  };
  pool.free = (b: DmaBuffer): void => {
    if (taken.has(b.phys) && r.dev.counters.resets === resets) early.push(b.phys);
    taken.delete(b.phys);
    free(b);
  };
  return {
    early,
    stop: () => {
      watching = false;
    },
    restore: () => {
      pool.alloc = alloc;
      pool.free = free;
    },
  };
}

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: a multi-piece read that fails changes none of the caller's bytes after it rejected`, async () => {
    // One request in flight at a time, 2 sectors per piece: 4 pieces, the first one bad.
    const r = await blkRig(version, {}, { maxInFlight: 1, maxRequestBytes: 1024 });
    r.disk.faults.badSectors.add(0);
    const into = new Uint8Array(8 * 512).fill(0xee);
    const e = await rejection(r.blk.read(0, 8, into));
    assert.instance(e, BlkStatusError);
    const seen = into.slice();
    await quiet(r);
    assert.equal(into, seen, "no byte of the caller's buffer changed after the rejection");
    r.disk.faults.badSectors.clear();
    assert.equal(await r.blk.read(0, 8), r.disk.image.subarray(0, 8 * 512), "still works");
    await finish(r);
  });

  test(`${v}: a multi-piece read into DMA memory: the device writes none of it after the rejection`, async () => {
    const r = await blkRig(version, {}, { maxInFlight: 1, maxDirectRequestBytes: 1024 });
    const dma = r.model.platform.dma;
    const buf = dma.alloc(8 * 512, 64);
    buf.bytes.fill(0xee);
    r.disk.faults.badSectors.add(1);
    const e = await rejection(r.blk.read(0, 8, buf));
    assert.instance(e, BlkStatusError);
    const seen = buf.bytes.slice();
    await quiet(r);
    assert.equal(buf.bytes, seen, "the device wrote nothing into the caller's memory after the rejection");
    dma.free(buf);
    await finish(r);
  });

  test(`${v}: a multi-piece write that fails sends none of its later pieces`, async () => {
    const r = await blkRig(version, {}, { maxInFlight: 1, maxRequestBytes: 1024 });
    r.disk.faults.badSectors.add(0);
    const before = r.disk.image.slice();
    assert.instance(await rejection(r.blk.write(0, new Uint8Array(8 * 512).fill(0x5a))), BlkStatusError);
    await quiet(r);
    // Sectors 2..7 are the later pieces (the failed piece's own sectors are the device's call).
    assert.ok(r.disk.image.subarray(2 * 512, 8 * 512).every((b, i) => b === before[2 * 512 + i]), "nothing written after the failed piece");
    await finish(r);
  });

  test(`${v}: a timed-out request's bounce memory goes back only after the reset`, async () => {
    const r = await blkRig(version, {}, { timeoutMs: 40 });
    const frees = watchFrees(r);
    r.disk.faults.hang = true;
    const resets = r.dev.counters.resets;
    const e = await rejection(r.blk.read(0, 8, new Uint8Array(8 * 512)));
    frees.stop();
    assert.instance(e, RequestTimeoutError);
    assert.ok(r.dev.counters.resets > resets, "failed only once the reset took the chain back");
    r.disk.faults.hang = false;
    for (let i = 0; i < 50 && !r.blk.ready; i++) await new Promise((done) => setTimeout(done, 5));
    assert.equal(frees.early, [], "no block the device held was freed before its reset");
    frees.restore();
    assert.equal(await r.blk.read(0, 1), r.disk.image.subarray(0, 512));
    await finish(r);
  });

  test(`${v}: a timed-out read into DMA memory is failed only once the device was reset`, async () => {
    const r = await blkRig(version, {}, { timeoutMs: 40 });
    const dma = r.model.platform.dma;
    const buf = dma.alloc(512, 64);
    r.disk.faults.hang = true;
    const resets = r.dev.counters.resets;
    const e = await rejection(r.blk.read(0, 1, buf));
    assert.instance(e, RequestTimeoutError);
    assert.ok(r.dev.counters.resets > resets, "the caller got its buffer back after the reset");
    r.disk.faults.hang = false;
    for (let i = 0; i < 50 && !r.blk.ready; i++) await new Promise((done) => setTimeout(done, 5));
    dma.free(buf);
    await finish(r);
  });

  test(`${v}: a broken ring: requests fail at once, their DMA memory stays until the reset`, async () => {
    const r = await blkRig(version);
    const frees = watchFrees(r);
    r.dev.faults.usedLenExtra = 4;
    const reads = [r.blk.read(0, 2, new Uint8Array(1024)), r.blk.read(2, 2, new Uint8Array(1024))];
    for (const e of await Promise.all(reads.map(rejection))) assert.instance(e, RingError);
    frees.stop();
    await quiet(r);
    assert.equal(frees.early, [], "nothing the device was given is freed while it is not reset");
    r.dev.faults.usedLenExtra = 0;
    r.model.clearViolations();
    assert.ok(await r.bus.device(31)!.restart());
    frees.restore();
    assert.equal(await r.blk.read(5, 1), r.disk.image.subarray(5 * 512, 6 * 512));
    await finish(r);
  });

  test(`${v}: GET_ID: a used length that does not cover the ID and the status byte is an error`, async () => {
    const r = await blkRig(version, { id: "serial-0123456789" });
    assert.is(await r.blk.id(), "serial-0123456789");
    for (const len of [1, 20]) {
      r.disk.faults.usedLength = len;
      const e = await rejection(r.blk.id());
      assert.instance(e, BlkUsedLengthError, `used length ${len}`);
      assert.is((e as BlkUsedLengthError).expected, 21);
    }
    r.disk.faults.usedLength = null;
    assert.is(await r.blk.id(), "serial-0123456789");
    await finish(r);
  });

  test(`${v}: a queue too small for one request without INDIRECT_DESC is refused at probe`, async () => {
    const r = await blkRig(version, { queueMaxSize: 2 }, {}, { indirect: false });
    const info = r.bus.devices()[0]!;
    assert.is(info.status, "FAILED");
    assert.match(info.error ?? "", /queue 0: 2 descriptor\(s\) \(QueueNumMax 2\), fewer than the 3 descriptors one request takes/);
    assert.instance(r.bus.device(31)!.error, QueueTooSmallError);
    assert.is(r.driver.devices().length, 0, "no BlockDevice handed out");
    await finish(r);
  });

  for (const indirect of [true, false]) {
    test(`${v}: indirect ${indirect}: requests are cut to the queue size (16 entries, size_max 4096)`, async () => {
      const r = await blkRig(version, { queueMaxSize: 16, sizeMax: 4096, segMax: 254 }, {}, { indirect });
      const info = r.blk.info;
      assert.ok(info.maxSectorsPerRequest * 512 <= 14 * 4096, `${info.maxSectorsPerRequest} sectors`);
      assert.equal(await r.blk.read(0, 128), r.disk.image.subarray(0, 128 * 512));
      assert.ok(r.disk.shapes.maxSegments <= 14, `${r.disk.shapes.maxSegments} segments`);
      await finish(r);
    });
  }
}

test.run();
