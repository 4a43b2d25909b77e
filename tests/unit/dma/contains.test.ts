// DmaPool.contains: does a byte range lie inside the pool's region (what the ring checks
// before it hands a device an address).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DmaPool } from "../../../platform/dma-pool.js";

const PHYS = 0x40000000;
const SIZE = 4096;
const pool = () => new DmaPool({ phys: PHYS, bytes: new Uint8Array(SIZE) });

test("the whole region and every allocated buffer are inside", () => {
  const p = pool();
  assert.ok(p.contains(PHYS, SIZE));
  assert.ok(p.contains(PHYS, 1));
  assert.ok(p.contains(PHYS + SIZE - 1, 1));
  const b = p.alloc(100);
  assert.ok(p.contains(b.phys, b.size));
});

test("a free (not allocated) range inside the region is still inside", () => {
  const p = pool();
  const b = p.alloc(64);
  p.free(b);
  assert.ok(p.contains(b.phys, 64));
});

test("below the region, above it, or straddling either end is outside", () => {
  const p = pool();
  assert.not.ok(p.contains(PHYS - 16, 8), "below");
  assert.not.ok(p.contains(PHYS - 1, 2), "straddles the start");
  assert.not.ok(p.contains(PHYS + SIZE, 1), "just past the end");
  assert.not.ok(p.contains(PHYS + SIZE - 8, 9), "straddles the end");
  assert.not.ok(p.contains(PHYS, SIZE + 1), "one byte longer than the region");
  assert.not.ok(p.contains(0, 16), "address 0");
  assert.not.ok(p.contains(0x08000000, 4), "the GIC");
});

test("an empty or negative length is never inside", () => {
  const p = pool();
  assert.not.ok(p.contains(PHYS, 0));
  assert.not.ok(p.contains(PHYS + 16, -16));
  assert.not.ok(p.contains(PHYS + SIZE, 0));
});

test("non-integer, unsafe or NaN values are never inside", () => {
  const p = pool();
  assert.not.ok(p.contains(PHYS + 0.5, 4));
  assert.not.ok(p.contains(PHYS, 1.5));
  assert.not.ok(p.contains(Number.NaN, 4));
  assert.not.ok(p.contains(PHYS, Number.NaN));
  assert.not.ok(p.contains(PHYS, Number.POSITIVE_INFINITY));
  assert.not.ok(p.contains(2 ** 53, 1));
  assert.not.ok(p.contains(PHYS, 2 ** 53));
});

test("a region that starts at an unaligned address keeps its exact bounds", () => {
  const p = new DmaPool({ phys: PHYS + 4, bytes: new Uint8Array(100) });
  assert.ok(p.contains(PHYS + 4, 100));
  assert.not.ok(p.contains(PHYS, 8));
  assert.not.ok(p.contains(PHYS + 100, 8));
  assert.ok(p.contains(PHYS + 96, 8));
});

test("an empty region contains nothing", () => {
  const p = new DmaPool({ phys: PHYS, bytes: new Uint8Array(0) });
  assert.not.ok(p.contains(PHYS, 1));
});

test.run();
