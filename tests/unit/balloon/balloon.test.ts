// virtio-balloon (VIRTIO 1.2 §5.5) against the strict model, both transport versions:
// following num_pages both ways, `actual`, the pages' ownership in the pool, statistics,
// poison, free page reporting, DEFLATE_ON_OOM, resets and a device that breaks the ring.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { PagePoolExhaustedError } from "../../../platform/page-pool.js";
import { finish, VERSIONS } from "../core/rig.js";
import { balloonRig, POOL_PAGES, until } from "./balloon-rig.js";

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: inflates to num_pages, deflates back, writes actual each time`, async () => {
    const r = await balloonRig(version);
    const pool = r.model.pages;
    r.model_.setTarget(600);
    await until(r, () => r.model_.actual === 600, "actual 600");
    assert.is(r.model_.inflated.size, 600);
    assert.is(r.balloon.actualPages, 600);
    assert.is(pool.stats().held["balloon"], 600);
    assert.is(pool.freePages, POOL_PAGES - 600);
    assert.ok(r.model_.inflateRequests >= 3, "256 page frames per request");
    for (const pfn of r.model_.inflated) assert.ok(pool.owns(pfn) && !pool.isFree(pfn), "only pool pages are inflated");
    r.model_.setTarget(100);
    await until(r, () => r.model_.actual === 100, "actual 100");
    assert.is(r.model_.inflated.size, 100);
    assert.is(pool.freePages, POOL_PAGES - 100);
    r.model_.setTarget(0);
    await until(r, () => r.model_.actual === 0, "actual 0");
    assert.is(pool.freePages, POOL_PAGES);
    await finish(r);
  });

  test(`${v}: a target above what the pool has stops at the pool, says so, and retries`, async () => {
    const r = await balloonRig(version);
    r.model_.setTarget(5000);
    await until(r, () => r.model_.actual === POOL_PAGES, "the whole pool inflated");
    await until(r, () => r.balloon.stats().shortfallPages === 5000 - POOL_PAGES, "the shortfall");
    assert.ok(r.balloon.settled);
    // An application frees nothing, the target drops: the balloon deflates.
    r.model_.setTarget(10);
    await until(r, () => r.model_.actual === 10, "actual 10");
    await finish(r);
  });

  test(`${v}: statistics on every request of the device, same tags, MEMTOT = RAM`, async () => {
    const r = await balloonRig(version);
    await until(r, () => r.model_.statsReceived.length === 1, "the first stats buffer (§5.5.5)");
    assert.ok(r.model_.requestStats());
    await until(r, () => r.model_.statsReceived.length === 2, "fresh statistics");
    const stats = r.model_.latestStats();
    assert.is(stats.size, 9);
    assert.is(stats.get(5), BigInt(16 << 20), "MEMTOT");
    assert.ok(stats.get(4)! >= BigInt(POOL_PAGES * 4096), "MEMFREE counts the free pool");
    r.model_.setTarget(512);
    await until(r, () => r.model_.actual === 512, "inflated");
    assert.ok(r.model_.requestStats());
    await until(r, () => r.model_.statsReceived.length === 3, "stats after inflation");
    assert.ok(r.model_.latestStats().get(4)! < stats.get(4)!, "less free memory with the balloon inflated");
    assert.is(r.balloon.stats().statsRequests, 2);
    await finish(r);
  });

  test(`${v}: PAGE_POISON: poison_val before DRIVER_OK; reused pages hold it`, async () => {
    const r = await balloonRig(version, { pagePoison: true }, { poison: 0xaaaaaaaa });
    assert.is(r.model_.poisonValue, 0xaaaaaaaa);
    assert.ok(r.balloon.negotiated.poison);
    r.model_.setTarget(300);
    await until(r, () => r.model_.actual === 300, "inflated");
    const frames = [...r.model_.inflated];
    r.model_.setTarget(0);
    await until(r, () => r.model_.actual === 0, "deflated");
    for (const f of frames.slice(0, 20)) assert.ok(r.model.pages.view(f).every((b) => b === 0xaa), `page 0x${f.toString(16)} poisoned after deflation`);
    await finish(r);
  });

  test(`${v}: without PAGE_POISON offered nothing is written to poison_val`, async () => {
    const r = await balloonRig(version, { pagePoison: false });
    assert.ok(!r.balloon.negotiated.poison);
    assert.is(r.model_.poisonValue, 0);
    await finish(r);
  });

  test(`${v}: DEFLATE_ON_OOM: an allocation that would fail takes a page back, the device is told`, async () => {
    const r = await balloonRig(version, { deflateOnOom: true });
    const pool = r.model.pages;
    r.model_.setTarget(POOL_PAGES);
    await until(r, () => r.model_.actual === POOL_PAGES, "whole pool inflated");
    assert.is(pool.freePages, 0);
    const page = pool.alloc();
    assert.ok(!r.model_.inflated.has(page.frame) || r.model_.deflateRequests >= 0);
    await until(r, () => r.model_.actual === POOL_PAGES - 1, "the device told of the deflation");
    assert.ok(!r.model_.inflated.has(page.frame), "the page taken back is out of the balloon");
    assert.is(r.balloon.stats().oomPages, 1);
    page.bytes.fill(1); // the application's now
    pool.free(page);
    await until(r, () => r.model_.actual === POOL_PAGES, "re-inflated once the page was free");
    await finish(r);
  });

  test(`${v}: without DEFLATE_ON_OOM the balloon's pages stay the host's`, async () => {
    const r = await balloonRig(version, { deflateOnOom: false });
    r.model_.setTarget(POOL_PAGES);
    await until(r, () => r.model_.actual === POOL_PAGES, "whole pool inflated");
    assert.throws(() => r.model.pages.alloc(), (e: unknown) => e instanceof PagePoolExhaustedError);
    assert.is(r.model_.inflated.size, POOL_PAGES);
    await finish(r);
  });

  test(`${v}: MUST_TELL_HOST with DEFLATE_ON_OOM: no page is used before the device acknowledges`, async () => {
    const r = await balloonRig(version, { deflateOnOom: true, mustTellHost: true });
    assert.ok(r.balloon.negotiated.mustTellHost);
    r.model_.setTarget(POOL_PAGES);
    await until(r, () => r.model_.actual === POOL_PAGES, "inflated");
    assert.throws(() => r.model.pages.alloc(), (e: unknown) => e instanceof PagePoolExhaustedError);
    await finish(r);
  });

  test(`${v}: free page reporting: runs of free pages, poisoned, back in the pool once acknowledged`, async () => {
    const r = await balloonRig(version, { pageReporting: true, pagePoison: true }, { poison: 0x5555aaaa, reportMinPages: 64 });
    assert.ok(r.balloon.negotiated.reporting);
    await until(r, () => r.model_.reportedPages >= POOL_PAGES, "a report of the free pool");
    await until(r, () => r.model.pages.freePages === POOL_PAGES, "reported pages back in the pool");
    assert.ok(r.balloon.stats().reports >= 1);
    await finish(r);
  });

  test(`${v}: a reset with an inflation out gives every page back; the balloon refills to the target`, async () => {
    const r = await balloonRig(version);
    r.model_.setTarget(300);
    await until(r, () => r.model_.actual === 300, "inflated");
    r.model_.holdInflates = true;
    r.model_.setTarget(700);
    await until(r, () => r.balloon.stats().inflightPages > 0, "an inflation held by the device");
    assert.ok(await r.bus.device(31)!.restart());
    r.model_.holdInflates = false;
    await until(r, () => r.model_.actual === 700, "refilled after the reset");
    assert.is(r.model.pages.stats().held["balloon"], 700, "no page lost or held twice");
    await finish(r);
  });

  test(`${v}: unbind gives every page back and stops every timer`, async () => {
    const r = await balloonRig(version, { pageReporting: true });
    r.model_.setTarget(5000);
    await until(r, () => r.model_.actual === POOL_PAGES, "pool exhausted (retry timer armed)");
    await r.bus.shutdown();
    assert.is(r.model.pages.freePages, POOL_PAGES);
    assert.is(r.model.timers.active, 0);
    await finish(r);
  });

  test(`${v}: the strict model catches a driver that writes a page in the balloon`, async () => {
    const r = await balloonRig(version);
    r.model_.setTarget(10);
    await until(r, () => r.model_.actual === 10, "inflated");
    const frame = [...r.model_.inflated][0]!;
    r.model.memory.view(frame * 4096, 4096)[100] = 0x42; // what a buggy driver would do
    r.model_.setTarget(0);
    await until(r, () => r.model_.actual === 0, "deflated");
    assert.ok(r.model.violationRules().includes("balloon-page-touched"));
    r.model.clearViolations();
    await finish(r);
  });

  test(`${v}: a used id that is not a chain head breaks the balloon; the driver stays up`, async () => {
    const r = await balloonRig(version);
    r.dev.faults.usedIdOutOfRange = true;
    r.model_.setTarget(10);
    await until(r, () => r.balloon.broken !== null, "the balloon marked broken");
    assert.match(r.balloon.broken!.message, /id/i);
    r.dev.faults.usedIdOutOfRange = false;
    r.model.clearViolations();
    await finish(r);
  });
}

test.run();
