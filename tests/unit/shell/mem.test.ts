import { test } from "uvu";
import * as assert from "uvu/assert";
import { PagePool } from "../../../platform/page-pool.js";
import { fakePlatform } from "./fake-platform.js";
import { fakeShell } from "./shell-rig.js";

function setup(engineStats?: () => Record<string, number>) {
  const platform = fakePlatform({ ...(engineStats ? { engineStats } : {}), dmaStats: { total: 2097152, used: 4096, peak: 8192, allocations: 2 } });
  const { run } = fakeShell({ platform });
  return { run };
}

test("mem prints engine statistics and the DMA pool's use", async () => {
  const out = await setup().run("mem");
  assert.ok(out.includes("engine (fake):\r\n"));
  assert.ok(/ {2}heapUsed\s+307200\r\n/.test(out), out);
  assert.ok(/ {2}slotsUsed\s+1500\r\n/.test(out));
  assert.ok(out.includes("dma pool:\r\n"));
  assert.ok(/total\s+2097152 \(2\.0 MiB\)/.test(out));
  assert.ok(/used\s+4096 \(4\.0 KiB\)/.test(out));
  assert.ok(/free\s+2093056 \(2\.0 MiB\)/.test(out));
  assert.ok(/peak\s+8192 \(8\.0 KiB\)/.test(out));
  assert.ok(/allocations\s+2\r\n/.test(out));
});

test("mem --json prints one object", async () => {
  const { run } = setup();
  await run("batch on");
  const [json, status] = (await run("mem --json")).split("\r\n");
  assert.equal(JSON.parse(json!), {
    engine: { heapUsed: 307200, slotsUsed: 1500 },
    dma: { total: 2097152, used: 4096, free: 2093056, peak: 8192, allocations: 2 },
    pages: null,
  });
  assert.is(status, "@@status 0");
});

test("mem lists the page pool by holder when the platform has one", async () => {
  const pages = new PagePool({ phys: 0x4200_0000, bytes: new Uint8Array(16 * 4096) });
  pages.take("balloon", 5, new Uint32Array(5));
  const platform = { ...fakePlatform({ dmaStats: { total: 2097152, used: 4096, peak: 8192, allocations: 2 } }), pages };
  const { run } = fakeShell({ platform });
  const out = await run("mem");
  assert.ok(out.includes("page pool (4 KiB pages: 0x42000000+65536 (64.0 KiB)):"), out);
  assert.ok(/free\s+45056 \(44\.0 KiB\) \(11 pages\)/.test(out), out);
  assert.ok(/held by balloon\s+5 pages/.test(out), out);
  await run("batch on");
  const json = JSON.parse((await run("mem --json")).split("\r\n")[0]!);
  assert.is(json.pages.freePages, 11);
  assert.is(json.pages.held.balloon, 5);
});

test("mem when the engine cannot tell: DMA still printed, status 1", async () => {
  const { run } = setup(() => {
    throw new Error("no stats here");
  });
  await run("batch on");
  const out = await run("mem");
  assert.ok(out.includes("unavailable: Error: no stats here"));
  assert.ok(out.includes("dma pool:"));
  assert.ok(out.endsWith("@@status 1\r\nvirtio> "));
});

test.run();
