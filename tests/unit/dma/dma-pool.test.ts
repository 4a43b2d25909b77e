// DmaPool: physical alignment, views onto the region, coalescing, clear errors.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { DmaBuffer } from "../../../platform/platform.js";
import { DmaPool, DmaExhaustedError, DmaUsageError } from "../../../platform/dma-pool.js";

const PHYS = 0x40000000;
const region = (size: number, phys = PHYS, pad = 0) => {
  const backing = new Uint8Array(size + 2 * pad);
  return { phys, bytes: backing.subarray(pad, pad + size), backing };
};

test("alloc returns views of the region at phys = region.phys + offset", () => {
  const r = region(4096);
  const pool = new DmaPool(r);
  const a = pool.alloc(100);
  assert.is(a.size, 100);
  assert.is(a.bytes.length, 100);
  assert.is(a.view.byteLength, 100);
  const off = a.phys - PHYS;
  a.view.setUint32(4, 0xdeadbeef, true);
  assert.is(r.bytes[off + 4], 0xef);
  assert.is(r.bytes[off + 7], 0xde);
  a.bytes[0] = 0x5a;
  assert.is(r.bytes[off], 0x5a);
});

test("alignment is of the physical address, also when the region starts unaligned", () => {
  const pool = new DmaPool(region(65536, PHYS + 4));
  for (const align of [1, 2, 4, 16, 64, 256, 4096]) {
    const b = pool.alloc(10, align);
    assert.is(b.phys % align, 0, `align ${align}`);
    assert.ok(b.phys >= PHYS + 4);
  }
});

test("views work on a region that is a subarray with a byteOffset", () => {
  const r = region(1024, PHYS, 64);
  const pool = new DmaPool(r);
  const a = pool.alloc(16);
  a.view.setUint16(0, 0x1234, true);
  assert.is(r.backing[64 + (a.phys - PHYS)], 0x34);
  assert.is(r.backing[63], 0);
});

test("live buffers never overlap", () => {
  const pool = new DmaPool(region(8192));
  const bufs = [pool.alloc(24), pool.alloc(1, 4096), pool.alloc(300, 64), pool.alloc(7, 2)];
  const spans = bufs.map((b) => [b.phys, b.phys + b.size] as const).sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1]);
});

test("free coalesces: after freeing everything one block covers the pool", () => {
  const pool = new DmaPool(region(4096));
  const bufs = [pool.alloc(100), pool.alloc(200, 256), pool.alloc(50), pool.alloc(1000, 1024)];
  for (const i of [2, 0, 3, 1]) pool.free(bufs[i]!);
  const s = pool.stats();
  assert.is(s.used, 0);
  assert.is(s.allocations, 0);
  assert.is(s.freeBlocks, 1);
  assert.is(s.largestFree, 4096);
  assert.is(pool.alloc(4096, 1).phys, PHYS);
});

test("freed space is reused", () => {
  const pool = new DmaPool(region(256));
  const a = pool.alloc(128);
  pool.alloc(128);
  pool.free(a);
  assert.is(pool.alloc(128).phys, a.phys);
});

test("stats: used, peak, allocations", () => {
  const pool = new DmaPool(region(1024));
  const a = pool.alloc(16);
  const b = pool.alloc(32);
  pool.free(a);
  const s = pool.stats();
  assert.is(s.total, 1024);
  assert.is(s.used, 32);
  assert.is(s.peak, 48);
  assert.is(s.allocations, 1);
  assert.is(s.allocationsTotal, 2);
  assert.is(s.free, 1024 - 32);
  pool.free(b);
});

test("exhaustion throws DmaExhaustedError with the sizes", () => {
  const pool = new DmaPool(region(1024));
  pool.alloc(512);
  const err = (() => {
    try {
      pool.alloc(1000, 16);
    } catch (e) {
      return e;
    }
    return null;
  })();
  assert.instance(err, DmaExhaustedError);
  const e = err as DmaExhaustedError;
  assert.is(e.requested, 1000);
  assert.is(e.align, 16);
  assert.is(e.freeBytes, 512);
  assert.is(e.largestFree, 512);
  assert.match(e.message, /1000 bytes/);
  // Nothing changed: the free space is still there.
  assert.is(pool.alloc(512).size, 512);
});

test("alignment that cannot be met inside the region is exhaustion, not a wrong address", () => {
  const pool = new DmaPool(region(8192, PHYS + 16));
  assert.throws(() => pool.alloc(8000, 4096), (e: unknown) => e instanceof DmaExhaustedError);
});

test("double free and foreign buffers are clear errors", () => {
  const pool = new DmaPool(region(1024));
  const other = new DmaPool(region(1024));
  const a = pool.alloc(16);
  pool.free(a);
  assert.throws(() => pool.free(a), (e: unknown) => e instanceof DmaUsageError && e.kind === "DoubleFree");
  const f = other.alloc(16);
  assert.throws(() => pool.free(f), (e: unknown) => e instanceof DmaUsageError && e.kind === "ForeignBuffer");
  const fake = { phys: PHYS, size: 16, bytes: new Uint8Array(16), view: new DataView(new ArrayBuffer(16)) };
  assert.throws(() => pool.free(fake), (e: unknown) => e instanceof DmaUsageError && e.kind === "ForeignBuffer");
  assert.is(pool.stats().used, 0);
});

test("bad sizes and alignments are rejected", () => {
  const pool = new DmaPool(region(1024));
  for (const size of [0, -1, 1.5, NaN]) {
    assert.throws(() => pool.alloc(size), (e: unknown) => e instanceof DmaUsageError && e.kind === "BadSize");
  }
  for (const align of [0, 3, 24, 1 << 20]) {
    assert.throws(() => pool.alloc(8, align), (e: unknown) => e instanceof DmaUsageError && e.kind === "BadAlign");
  }
});

test("random alloc/free keeps the pool consistent (seeded)", () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const pool = new DmaPool(region(1 << 16));
  const live: { buf: DmaBuffer; fill: number }[] = [];
  for (let step = 0; step < 3000; step++) {
    if (live.length > 0 && rand(3) === 0) {
      const { buf, fill } = live.splice(rand(live.length), 1)[0]!;
      assert.ok(buf.bytes.every((x) => x === fill), "contents kept while live");
      pool.free(buf);
      continue;
    }
    const align = 1 << rand(10);
    try {
      const buf = pool.alloc(1 + rand(700), align);
      assert.is(buf.phys % align, 0);
      const fill = rand(256);
      buf.bytes.fill(fill);
      live.push({ buf, fill });
    } catch (e) {
      assert.instance(e, DmaExhaustedError);
    }
  }
  for (const { buf } of live) pool.free(buf);
  const s = pool.stats();
  assert.is(s.used, 0);
  assert.is(s.freeBlocks, 1);
});

test.run();
