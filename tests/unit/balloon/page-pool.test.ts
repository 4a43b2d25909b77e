// The page pool (platform/page-pool.ts): pages by frame, holders, reclaimers, runs.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { PAGE_SIZE, PagePool, PagePoolExhaustedError, PagePoolUsageError } from "../../../platform/page-pool.js";

const BASE = 0x4080_0000;

function pool(pages = 16): { pool: PagePool; bytes: Uint8Array } {
  const bytes = new Uint8Array(pages * PAGE_SIZE);
  return { pool: new PagePool({ phys: BASE, bytes }), bytes };
}

test("take and give: frames are physical address / 4096, counted by holder", () => {
  const { pool: p } = pool(16);
  assert.is(p.totalPages, 16);
  assert.is(p.freePages, 16);
  const out = new Uint32Array(8);
  assert.is(p.take("balloon", 8, out), 8);
  assert.equal([...out], Array.from({ length: 8 }, (_, i) => BASE / PAGE_SIZE + i), "lowest pages first");
  assert.is(p.freePages, 8);
  assert.is(p.stats().held["balloon"], 8);
  assert.ok(!p.isFree(out[0]!));
  p.give("balloon", out, 8);
  assert.is(p.freePages, 16);
  assert.is(p.stats().held["balloon"], 0);
  assert.ok(p.isFree(out[0]!));
});

test("take takes only what is free; give of a page not held throws", () => {
  const { pool: p } = pool(4);
  const out = new Uint32Array(8);
  assert.is(p.take("a", 8, out), 4);
  assert.is(p.take("a", 1, out), 0);
  assert.throws(() => p.give("b", out, 1), (e: unknown) => e instanceof PagePoolUsageError && e.kind === "NotHeld");
  assert.throws(() => p.give("a", Uint32Array.of(1), 1), (e: unknown) => e instanceof PagePoolUsageError && e.kind === "ForeignFrame");
  p.give("a", out, 4);
  assert.throws(() => p.give("a", out, 1), (e: unknown) => e instanceof PagePoolUsageError && e.kind === "NotHeld", "double give");
});

test("alloc asks the reclaimers when empty, then fails with the figures", () => {
  const { pool: p } = pool(2);
  const stash = new Uint32Array(2);
  p.take("balloon", 2, stash);
  let asked = 0;
  const unhook = p.addReclaimer((wanted) => {
    asked += wanted;
    p.give("balloon", stash, 1);
    return 1;
  });
  const page = p.alloc();
  assert.is(asked, 1);
  assert.is(page.phys, page.frame * PAGE_SIZE);
  assert.is(page.bytes.length, PAGE_SIZE);
  unhook();
  assert.throws(() => p.alloc(), (e: unknown) => e instanceof PagePoolExhaustedError);
  assert.is(p.stats().failures, 1);
  p.free(page);
  assert.is(p.freePages, 1);
});

test("view and fill32 reach the page's own bytes", () => {
  const { pool: p, bytes } = pool(3);
  const frame = BASE / PAGE_SIZE + 1;
  p.fill32(frame, 0xdeadbeef);
  const view = new DataView(bytes.buffer, PAGE_SIZE, PAGE_SIZE);
  for (let i = 0; i < PAGE_SIZE; i += 4) assert.is(view.getUint32(i, true), 0xdeadbeef);
  assert.is(bytes[0], 0, "page 0 untouched");
  assert.is(bytes[2 * PAGE_SIZE], 0, "page 2 untouched");
  p.fill32(frame, 0xaaaaaaaa);
  assert.ok(p.view(frame).every((b) => b === 0xaa));
});

test("freeRuns finds runs of free pages; takeRun holds exactly them", () => {
  const { pool: p } = pool(16);
  const out = new Uint32Array(4);
  p.take("x", 3, out); // frames 0..2 held
  const runs = new Uint32Array(8);
  assert.is(p.freeRuns(4, 4, runs), 1);
  assert.equal([runs[0]! - BASE / PAGE_SIZE, runs[1]], [3, 13]);
  p.takeRun("report", runs[0]!, runs[1]!);
  assert.is(p.freePages, 0);
  assert.is(p.take("y", 1, out), 0);
  const frames = Uint32Array.from({ length: 13 }, (_, i) => runs[0]! + i);
  p.give("report", frames, 13);
  assert.is(p.freePages, 13);
});

test("addRegion: plugged memory joins the pool; bad regions are refused", () => {
  const { pool: p } = pool(2);
  p.addRegion({ phys: 0x8000_0000, bytes: new Uint8Array(4 * PAGE_SIZE) });
  assert.is(p.totalPages, 6);
  assert.equal(p.stats().regions.map((r) => r.bytes), [2 * PAGE_SIZE, 4 * PAGE_SIZE]);
  assert.throws(() => p.addRegion({ phys: 0x8000_0100, bytes: new Uint8Array(PAGE_SIZE) }), (e: unknown) => e instanceof PagePoolUsageError);
  assert.throws(() => p.addRegion({ phys: BASE, bytes: new Uint8Array(PAGE_SIZE) }), /overlaps/);
  const out = new Uint32Array(6);
  assert.is(p.take("a", 6, out), 6);
});

test.run();
