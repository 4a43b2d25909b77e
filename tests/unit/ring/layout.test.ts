// Ring areas: sizes, alignment and placement for modern and legacy layouts (§2.7, §2.7.2).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LEGACY, MODERN, PHYS, makeQueue } from "./hand-device.js";
import { RingUsageError } from "../../../ring/errors.js";
import { SplitQueue } from "../../../ring/split-queue.js";
import { DmaPool, DmaExhaustedError } from "../../../platform/dma-pool.js";
import { CountingBarriers } from "./hand-device.js";

test("modern: three areas aligned 16 / 2 / 4, sized as §2.7 says, inside the pool", () => {
  for (const size of [1, 2, 8, 256, 1024]) {
    const { q, pool } = makeQueue({ size, layout: MODERN });
    const a = q.addresses;
    assert.is(a.size, size);
    assert.is(a.desc % 16, 0);
    assert.is(a.driver % 2, 0);
    assert.is(a.device % 4, 0);
    const spans = [
      [a.desc, a.desc + 16 * size],
      [a.driver, a.driver + 6 + 2 * size],
      [a.device, a.device + 6 + 8 * size],
    ].sort((x, y) => x[0]! - y[0]!);
    for (let i = 1; i < 3; i++) assert.ok(spans[i]![0]! >= spans[i - 1]![1]!, "areas do not overlap");
    assert.ok(spans[0]![0]! >= PHYS);
    assert.is(pool.stats().allocations, 3);
  }
});

test("legacy: one page-aligned block, avail right after the table, used on the next QueueAlign boundary", () => {
  for (const size of [16, 128, 256, 1024]) {
    const { q, pool } = makeQueue({ size, layout: LEGACY, regionBytes: 1 << 21 });
    const a = q.addresses;
    assert.is(a.desc % 4096, 0);
    assert.is(a.driver, a.desc + 16 * size);
    const expectUsed = a.desc + Math.ceil((16 * size + 6 + 2 * size) / 4096) * 4096;
    assert.is(a.device, expectUsed);
    assert.is(pool.stats().allocations, 1);
  }
});

test("legacy with a small QueueAlign puts used on that boundary", () => {
  const { q } = makeQueue({ size: 8, layout: { contiguous: true, usedAlign: 64, baseAlign: 4096 } });
  const a = q.addresses;
  assert.is(a.desc % 4096, 0);
  assert.is(a.device - a.desc, Math.ceil((128 + 6 + 16) / 64) * 64);
});

test("the areas are zeroed even when the pool memory was dirty", () => {
  const bytes = new Uint8Array(1 << 16).fill(0xee);
  const pool = new DmaPool({ phys: PHYS, bytes });
  const q = new SplitQueue({ index: 0, size: 8, dma: pool, barriers: new CountingBarriers(), layout: LEGACY, indirect: false, eventIdx: false, notify: () => {} });
  const start = q.addresses.desc - PHYS;
  const end = q.addresses.device - PHYS + 6 + 64;
  assert.ok(bytes.subarray(start, end).every((b) => b === 0));
});

test("bad sizes are rejected before any memory is taken", () => {
  const pool = new DmaPool({ phys: PHYS, bytes: new Uint8Array(1 << 16) });
  for (const size of [0, 3, 100, 65536]) {
    assert.throws(
      () => new SplitQueue({ index: 0, size, dma: pool, barriers: new CountingBarriers(), layout: MODERN, indirect: false, eventIdx: false, notify: () => {} }),
      (e: unknown) => e instanceof RingUsageError && e.kind === "BadSize",
    );
  }
  assert.is(pool.stats().allocations, 0);
});

test("no memory for the rings: DmaExhaustedError and nothing leaked", () => {
  const pool = new DmaPool({ phys: PHYS, bytes: new Uint8Array(4096) });
  assert.throws(
    () => new SplitQueue({ index: 0, size: 256, dma: pool, barriers: new CountingBarriers(), layout: MODERN, indirect: false, eventIdx: false, notify: () => {} }),
    (e: unknown) => e instanceof DmaExhaustedError,
  );
  assert.is(pool.stats().allocations, 0);
});

test("destroy frees everything and is safe twice; later calls throw Destroyed", () => {
  const { q, pool } = makeQueue<number>({ size: 8, indirect: true });
  q.add([{ phys: PHYS, len: 4 }], [{ phys: PHYS + 64, len: 4 }], 1);
  q.destroy();
  q.destroy();
  assert.is(pool.stats().allocations, 0);
  assert.throws(() => q.add([{ phys: PHYS, len: 4 }], [], 2), (e: unknown) => e instanceof RingUsageError && e.kind === "Destroyed");
  assert.throws(() => q.pop(), (e: unknown) => e instanceof RingUsageError && e.kind === "Destroyed");
  assert.equal(q.detachAll(), []);
});

test.run();
