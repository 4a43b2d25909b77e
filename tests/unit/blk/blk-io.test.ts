// The block driver on the strict host model, both transport versions: read, write,
// flush, get ID, discard, write-zeroes, multi-segment requests, many in flight, reads
// straight into DMA memory, and the capacity following a configuration change.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { BlkFeature } from "../../../drivers/blk/blk-spec.js";
import { finish, VERSIONS } from "../core/rig.js";
import { blkRig, pattern } from "./blk-rig.js";

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: binds, reads the configuration`, async () => {
    const r = await blkRig(version, { id: "disk-7", blkSize: 4096, geometry: true, topology: true });
    const info = r.blk.info;
    assert.is(info.capacity, 256);
    assert.is(info.bytes, 256 * 512);
    assert.is(info.blockSize, 4096);
    assert.is(info.readOnly, false);
    assert.is(info.flush, true);
    assert.is(info.segMax, 254);
    assert.ok(info.discard !== null && info.writeZeroes !== null);
    assert.equal(info.geometry, { cylinders: 1024, heads: 16, sectors: 63 });
    assert.is(info.topology?.minIoSize, 1);
    assert.is(r.bus.devices()[0]!.status, "DRIVER_OK");
    await finish(r);
  });

  test(`${v}: read, write, flush, id`, async () => {
    const r = await blkRig(version, { id: "disk-7" });
    const data = await r.blk.read(3, 5);
    assert.equal(data, r.disk.image.subarray(3 * 512, 8 * 512));
    const out = new Uint8Array(2 * 512).fill(0x5a);
    await r.blk.write(100, out);
    assert.equal(r.disk.image.subarray(100 * 512, 102 * 512), out);
    assert.is(r.disk.counters.unflushedBytes, 1024);
    await r.blk.flush();
    assert.is(r.disk.counters.unflushedBytes, 0);
    assert.is(await r.blk.id(), "disk-7");
    assert.equal(await r.blk.read(100, 2), out);
    assert.is(r.disk.counters.errors, 0);
    await finish(r);
  });

  test(`${v}: a large transfer is split by seg_max and size_max into multi-segment requests`, async () => {
    const r = await blkRig(version, { sizeMax: 1024, segMax: 4 }, { maxRequestBytes: 65536 });
    assert.is(r.blk.info.maxSectorsPerRequest, 8, "4 segments of 1 KiB");
    const data = await r.blk.read(0, 100);
    assert.equal(data, r.disk.image.subarray(0, 100 * 512));
    assert.is(r.disk.counters.reads, 13, "ceil(100 / 8) requests");
    assert.is(r.disk.shapes.maxSegments, 4);
    const src = pattern(40, 9);
    await r.blk.write(50, src);
    assert.equal(r.disk.image.subarray(50 * 512, 90 * 512), src);
    assert.is(r.disk.counters.writes, 5);
    await finish(r);
  });

  test(`${v}: many requests in flight, completed late and out of order`, async () => {
    const r = await blkRig(version, { delayTurns: 2, outOfOrder: true }, { maxRequestBytes: 4096, maxInFlight: 16 });
    const reads = Array.from({ length: 40 }, (_, i) => r.blk.read(i * 6, 6));
    const all = await Promise.all(reads);
    all.forEach((d, i) => assert.equal(d, r.disk.image.subarray(i * 6 * 512, (i + 1) * 6 * 512), `read ${i}`));
    assert.ok(r.disk.shapes.maxBatch >= 8, `requests in flight together: ${r.disk.shapes.maxBatch}`);
    const big = await r.blk.read(0, 256);
    assert.equal(big, r.disk.image);
    await finish(r);
  });

  test(`${v}: reads straight into DMA memory, writes from it`, async () => {
    const r = await blkRig(version);
    const dma = r.model.platform.dma;
    const buf = dma.alloc(16 * 512, 64);
    const baseline = dma.stats().used;
    const got = await r.blk.read(10, 16, buf);
    assert.is(got.buffer, buf.bytes.buffer, "the DMA buffer itself");
    assert.equal(got, r.disk.image.subarray(10 * 512, 26 * 512));
    assert.is(dma.stats().used, baseline, "no bounce memory left");
    buf.bytes.fill(0xc3);
    await r.blk.write(200, buf);
    assert.ok(r.disk.image.subarray(200 * 512, 216 * 512).every((b) => b === 0xc3));
    dma.free(buf);
    // Straight from DMA memory, requests may be larger than through bounce memory.
    const whole = dma.alloc(256 * 512, 64);
    const reads = r.disk.counters.reads;
    assert.equal(await r.blk.read(0, 256, whole), r.disk.image);
    assert.is(r.disk.counters.reads - reads, 1, "one 128 KiB request");
    assert.equal(await r.blk.read(0, 256), r.disk.image);
    assert.is(r.disk.counters.reads - reads, 3, "then two 64 KiB requests through bounce memory");
    assert.is(r.blk.info.maxSectorsPerDirectRequest, 131072, "the default maxDirectRequestBytes, 64 MiB");
    dma.free(whole);
    await finish(r);
  });

  test(`${v}: bounce memory in flight stays within maxBounceBytes`, async () => {
    const r = await blkRig(version, { delayTurns: 1 }, { maxRequestBytes: 4096, maxBounceBytes: 8192 });
    const peakBefore = r.model.dma.stats().used;
    const [a, b] = await Promise.all([r.blk.read(0, 256), r.blk.write(0, r.disk.image.slice(0, 64 * 512))]);
    assert.equal(a, r.disk.image);
    void b;
    assert.ok(r.disk.shapes.maxBatch <= 2, `requests in flight together: ${r.disk.shapes.maxBatch}`);
    assert.ok(r.model.dma.stats().peak - peakBefore <= 8192 + 4096, `bounce peak ${r.model.dma.stats().peak - peakBefore}`);
    assert.is(r.disk.counters.reads, 32, "256 sectors in 4 KiB requests");
    await finish(r);
  });

  test(`${v}: reads into a caller's Uint8Array`, async () => {
    const r = await blkRig(version);
    const into = new Uint8Array(4 * 512 + 7);
    const got = await r.blk.read(1, 4, into);
    assert.is(got.buffer, into.buffer);
    assert.equal(into.subarray(0, 2048), r.disk.image.subarray(512, 2560));
    await finish(r);
  });

  test(`${v}: discard and write zeroes, split by their limits`, async () => {
    const r = await blkRig(version, { discard: { maxSectors: 8 }, writeZeroes: { maxSectors: 16 } });
    await r.blk.writeZeroes(20, 40, { unmap: true });
    assert.ok(r.disk.image.subarray(20 * 512, 60 * 512).every((b) => b === 0));
    assert.is(r.disk.counters.writeZeroes, 3);
    assert.is(r.disk.image[60 * 512], pattern(256)[60 * 512]);
    await r.blk.discard(100, 20);
    assert.is(r.disk.counters.discards, 3);
    await finish(r);
  });

  test(`${v}: the capacity follows a configuration change`, async () => {
    const seen: [number, number][] = [];
    const r = await blkRig(version, {}, { onCapacityChange: (now, before) => seen.push([now, before]) });
    r.disk.resize(1024);
    await r.model.settle();
    assert.is(r.blk.capacity, 1024);
    assert.equal(seen, [[1024, 256]]);
    assert.equal((await r.blk.read(1000, 24)).length, 24 * 512);
    r.disk.resize(128);
    await r.model.settle();
    assert.is(r.blk.info.capacity, 128);
    assert.is(r.blk.stats().capacityChanges, 2);
    await finish(r);
  });

  test(`${v}: features: only what the driver uses, only when offered`, async () => {
    const r = await blkRig(version, { flush: false, discard: false, writeZeroes: false, segMax: null, blkSize: null });
    const f = r.blk.info.features;
    for (const bit of [BlkFeature.FLUSH, BlkFeature.DISCARD, BlkFeature.WRITE_ZEROES, BlkFeature.SEG_MAX, BlkFeature.BLK_SIZE]) {
      assert.is((f >> BigInt(bit)) & 1n, 0n, `bit ${bit}`);
    }
    assert.is(r.blk.info.blockSize, 512);
    assert.is(r.blk.info.maxSectorsPerRequest, 128, "one segment of maxRequestBytes without SEG_MAX");
    await r.blk.flush(); // write-through: nothing sent
    assert.is(r.disk.counters.flushes, 0);
    assert.equal(await r.blk.read(0, 130), r.disk.image.subarray(0, 130 * 512));
    await finish(r);
  });
}

test.run();
