// The virtio-blk device model, driven by hand (no project driver code): what it serves,
// what it answers with a status, and what it records as a driver violation.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { BlkDevice, BLK_S, BLK_T } from "../../../platform/host/devices/blk-device.js";
import { virtio } from "../../../platform/host/index.js";
import type { Buf, HandQueue } from "../host/hand-driver.js";
import { rig, rules, type Rig } from "../host/setup.js";
import { pattern } from "./blk-rig.js";

const { REG } = virtio;

/** One request: header (+ data out), then (data in +) status; returns status, used len, data in. */
async function request(r: Rig, q: HandQueue, type: number, sector: number, out: Uint8Array | null, inLen: number) {
  const hdr = r.d.buffer(16);
  const hv = new DataView(hdr.bytes.buffer, hdr.bytes.byteOffset, 16);
  hv.setUint32(0, type, true);
  hv.setBigUint64(8, BigInt(sector), true);
  const bufs: Buf[] = [{ addr: hdr.addr, len: 16 }];
  if (out) {
    const b = r.d.buffer(out.length);
    b.bytes.set(out);
    bufs.push({ addr: b.addr, len: out.length });
  }
  const data = inLen > 0 ? r.d.buffer(inLen) : null;
  if (data) bufs.push({ addr: data.addr, len: inLen, write: true });
  const status = r.d.buffer(1);
  status.bytes[0] = 0xff;
  bufs.push({ addr: status.addr, len: 1, write: true });
  r.d.post(q, bufs);
  r.d.notify(q);
  await r.model.settle();
  const used = r.d.takeUsed(q);
  assert.is(used.length, 1);
  return { status: status.bytes[0], len: used[0]!.len, data: data?.bytes };
}

function range(sector: number, count: number, flags = 0): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(sector), true);
  v.setUint32(8, count, true);
  v.setUint32(12, flags, true);
  return b;
}

for (const version of [1, 2] as const) {
  const v = `v${version}`;

  test(`${v}: read, write, flush, get id; config capacity`, async () => {
    const disk = new BlkDevice({ image: pattern(64), id: "disk-0" });
    const r = rig(version, disk);
    assert.is(r.d.r(REG.Config), 64, "capacity, low word");
    assert.is(r.d.r(REG.Config + 4), 0, "capacity, high word");
    const q = r.d.bringUp(16);
    const rd = await request(r, q, BLK_T.IN, 2, null, 1024);
    assert.equal([rd.status, rd.len], [BLK_S.OK, 1025]);
    assert.equal(rd.data, disk.image.subarray(1024, 2048));
    const wr = await request(r, q, BLK_T.OUT, 5, new Uint8Array(512).fill(0x5a), 0);
    assert.equal([wr.status, wr.len], [BLK_S.OK, 1]);
    assert.ok(disk.image.subarray(5 * 512, 6 * 512).every((b) => b === 0x5a));
    assert.is(disk.counters.unflushedBytes, 512);
    assert.is((await request(r, q, BLK_T.FLUSH, 0, null, 0)).status, BLK_S.OK);
    assert.is(disk.counters.unflushedBytes, 0);
    const id = await request(r, q, BLK_T.GET_ID, 0, null, 20);
    assert.is(new TextDecoder().decode(id.data!.subarray(0, 6)), "disk-0");
    assert.is(id.data![6], 0, "NUL-padded");
    assert.equal(disk.counters, { reads: 1, writes: 1, flushes: 1, getIds: 1, discards: 0, writeZeroes: 0, errors: 0, unflushedBytes: 0 });
    r.model.assertNoViolations();
  });

  test(`${v}: past the end, read-only and unknown types answer a status`, async () => {
    const disk = new BlkDevice({ capacity: 8, readOnly: true });
    const r = rig(version, disk);
    const q = r.d.bringUp(8);
    assert.is((await request(r, q, BLK_T.IN, 7, null, 1024)).status, BLK_S.IOERR, "past the end");
    assert.is((await request(r, q, BLK_T.OUT, 0, new Uint8Array(512).fill(1), 0)).status, BLK_S.IOERR, "read-only");
    assert.ok(disk.image.every((b) => b === 0), "nothing written");
    assert.is((await request(r, q, 99, 0, null, 0)).status, BLK_S.UNSUPP);
    assert.is(disk.counters.errors, 3);
    r.model.assertNoViolations();
  });

  test(`${v}: driver rule violations`, async () => {
    const r = rig(version, new BlkDevice({ capacity: 8 }));
    const q = r.d.bringUp(8);
    assert.is((await request(r, q, BLK_T.IN, 0, null, 100)).status, BLK_S.IOERR);
    await request(r, q, BLK_T.FLUSH, 3, null, 0);
    assert.equal(rules(r.model), ["blk-unaligned-length", "blk-flush-sector"]);
    r.model.clearViolations();
    // A header shorter than 16 bytes; a chain with no writable status byte.
    const short = r.d.buffer(8);
    const st = r.d.buffer(1);
    r.d.post(q, [{ addr: short.addr, len: 8 }, { addr: st.addr, len: 1, write: true }]);
    const hdr = r.d.buffer(16);
    r.d.post(q, [{ addr: hdr.addr, len: 16 }]);
    r.d.notify(q);
    await r.model.settle();
    assert.equal(rules(r.model), ["blk-header-missing", "blk-status-missing"]);
  });

  test(`${v}: seg_max and size_max`, async () => {
    const r = rig(version, new BlkDevice({ capacity: 8, segMax: 1, sizeMax: 512 }));
    const q = r.d.bringUp(8);
    const hdr = r.d.buffer(16);
    const a = r.d.buffer(1024);
    const st = r.d.buffer(1);
    r.d.post(q, [{ addr: hdr.addr, len: 16 }, { addr: a.addr, len: 512, write: true }, { addr: a.addr + 512, len: 512, write: true }, { addr: st.addr, len: 1, write: true }]);
    r.d.notify(q);
    await r.model.settle();
    assert.equal(rules(r.model), ["blk-too-many-segments"]);
    r.model.clearViolations();
    r.d.post(q, [{ addr: hdr.addr, len: 16 }, { addr: a.addr, len: 1024, write: true }, { addr: st.addr, len: 1, write: true }]);
    r.d.notify(q);
    await r.model.settle();
    assert.equal(rules(r.model), ["blk-segment-too-large"]);
  });
}

test("discard and write zeroes, within their limits", async () => {
  const disk = new BlkDevice({ image: pattern(32), discard: { maxSectors: 16, maxSeg: 2 }, writeZeroes: { maxSectors: 16, maxSeg: 2, mayUnmap: false } });
  const r = rig(2, disk);
  const q = r.d.bringUp(8);
  assert.is((await request(r, q, BLK_T.WRITE_ZEROES, 0, range(4, 2, 1), 0)).status, BLK_S.OK);
  assert.ok(disk.image.subarray(4 * 512, 6 * 512).every((b) => b === 0));
  assert.is((await request(r, q, BLK_T.DISCARD, 0, range(10, 1), 0)).status, BLK_S.OK);
  assert.is((await request(r, q, BLK_T.DISCARD, 0, range(10, 17), 0)).status, BLK_S.IOERR, "beyond max_discard_sectors");
  assert.equal([disk.counters.discards, disk.counters.writeZeroes, disk.counters.errors], [1, 1, 1]);
  r.model.assertNoViolations();
  await request(r, q, BLK_T.DISCARD, 0, range(0, 1, 1), 0);
  assert.equal(rules(r.model), ["blk-discard-flags"]);
});

test("not negotiated: FLUSH and DISCARD are UNSUPP and violations", async () => {
  const r = rig(2, new BlkDevice({ capacity: 8 }));
  const q = r.d.bringUp(8, 1n << 32n); // VERSION_1 only
  assert.is((await request(r, q, BLK_T.FLUSH, 0, null, 0)).status, BLK_S.UNSUPP);
  assert.is((await request(r, q, BLK_T.DISCARD, 0, range(0, 1), 0)).status, BLK_S.UNSUPP);
  assert.equal(rules(r.model), ["blk-type-not-negotiated"]);
});

test("resize: capacity changes with a configuration interrupt", async () => {
  const disk = new BlkDevice({ capacity: 8 });
  const r = rig(2, disk);
  r.d.bringUp(8);
  const gen = r.d.r(REG.ConfigGeneration);
  disk.resize(16);
  assert.is(r.d.r(REG.Config), 16);
  assert.is(r.d.r(REG.InterruptStatus) & 2, 2);
  assert.is(r.d.r(REG.ConfigGeneration), gen + 1);
  assert.is(disk.image.length, 16 * 512);
});

test("many requests in flight, completed late and out of order", async () => {
  const disk = new BlkDevice({ image: pattern(64), delayTurns: 2, outOfOrder: true });
  const r = rig(2, disk);
  const q = r.d.bringUp(64);
  const heads: number[] = [];
  for (let i = 0; i < 16; i++) {
    const hdr = r.d.buffer(16);
    new DataView(hdr.bytes.buffer, hdr.bytes.byteOffset).setBigUint64(8, BigInt(i), true);
    const data = r.d.buffer(512);
    const st = r.d.buffer(1);
    heads.push(r.d.post(q, [{ addr: hdr.addr, len: 16 }, { addr: data.addr, len: 512, write: true }, { addr: st.addr, len: 1, write: true }]));
  }
  r.d.notify(q);
  await r.model.settle();
  assert.equal(r.d.takeUsed(q).map((u) => u.id), heads.reverse());
  assert.is(disk.shapes.maxBatch, 16);
  r.model.assertNoViolations();
});

test.run();
