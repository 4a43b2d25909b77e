// virtio-balloon on QEMU, driven by the host through QMP as a test farm would: `balloon`
// to 64 MiB below the guest's RAM, `query-balloon` reaching it, the shell agreeing, the
// guest's statistics read with `qom-get`, blk, rng and net still serving while inflated,
// and back to full size. Modern and legacy virtio-mmio.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32Hex, makeRandomImage, pseudoRandomBytes } from "../../tools/lib/disk-image.mjs";
import { bootShell, jsonLine } from "./lib/firmware.mjs";
import { freeUdpPort } from "./lib/ports.mjs";

const MiB = 1 << 20;
// 256 MiB: the DMA pool (manifest dmaPoolBytes) takes 72 MiB, so a 128 MiB board has too
// little page pool left to give the host 64 MiB.
const RAM = 256 * MiB;
const MEMORY = "256M";
const ECHO_PORT = 7;
const dir = mkdtempSync(join(tmpdir(), "virtio-balloon-test-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `count` datagrams one by one and waits for each echo; returns how many came back intact. */
async function udpEchoes(port, count) {
  const sock = createSocket("udp4");
  let ok = 0;
  try {
    for (let i = 0; i < count; i++) {
      const payload = Buffer.from(`balloon-echo-${i}-${"x".repeat(i * 7)}`);
      const reply = await new Promise((resolve) => {
        const timer = setTimeout(() => { sock.off("message", onMessage); resolve(null); }, 3000);
        const onMessage = (msg) => { clearTimeout(timer); sock.off("message", onMessage); resolve(msg); };
        sock.on("message", onMessage);
        sock.send(payload, port, "127.0.0.1");
      });
      if (reply !== null && Buffer.compare(reply, payload) === 0) ok++;
    }
  } finally {
    sock.close();
  }
  return ok;
}

/** Polls QMP `query-balloon` until `actual` (guest RAM minus the balloon) is `bytes`. */
async function waitForBalloon(m, bytes, ms) {
  const end = Date.now() + ms;
  let last = null;
  while (Date.now() < end) {
    last = await m.qmp("query-balloon");
    if (last.actual === bytes) return Date.now() - (end - ms);
    await pause(100);
  }
  throw new Error(`query-balloon did not reach ${bytes} in ${ms} ms: last ${JSON.stringify(last)}`);
}

async function shellBalloon(m) {
  const r = await m.command("balloon --json");
  assert.is(r.status, 0, r.output);
  return jsonLine(r.output);
}

for (const legacy of [false, true]) {
  const mode = legacy ? "legacy" : "modern";

  test(`${mode}: QMP balloon 64 MiB below RAM and back; stats by qom-get; blk, rng, net keep working`, async () => {
    const seed = legacy ? 31 : 32;
    const disk = makeRandomImage(join(dir, `${mode}.img`), 4 * MiB, seed);
    const crc = crc32Hex(pseudoRandomBytes(4 * MiB, seed));
    const hostPort = await freeUdpPort();
    const m = await bootShell({
      legacy,
      memory: MEMORY,
      commandTimeoutMs: 30000,
      devices: [
        "virtio-balloon-device,id=bal0",
        { disk },
        "virtio-rng-device",
        { net: { hostfwd: [`udp:127.0.0.1:${hostPort}-:${ECHO_PORT}`] } },
      ],
    });
    try {
      const before = await shellBalloon(m);
      assert.is(before.actualPages, 0);
      assert.ok(before.negotiated.stats, "STATS_VQ negotiated (QEMU offers it)");
      const full = await m.qmp("query-balloon");
      assert.is(full.actual, RAM);

      // Statistics: QEMU asks the guest every 1 s once an interval is set.
      await m.qmp("qom-set", { path: "/machine/peripheral/bal0", property: "guest-stats-polling-interval", value: 1 });

      // 1. Inflate: the host wants 64 MiB back.
      await m.qmp("balloon", { value: RAM - 64 * MiB });
      const inflateMs = await waitForBalloon(m, RAM - 64 * MiB, 30000);
      console.log(`  ${mode}: inflated by 64 MiB in ${inflateMs} ms (query-balloon)`);
      const inflated = await shellBalloon(m);
      assert.is(inflated.targetPages, 16384);
      assert.is(inflated.actualPages, 16384, "the shell agrees with query-balloon");
      const mem = jsonLine((await m.command("mem --json")).output);
      assert.is(mem.pages.held.balloon, 16384, "the pages are the pool's, held by the balloon");

      // 2. The guest's statistics, from the host.
      let stats = null;
      for (let i = 0; i < 50 && !(stats && stats.stats && stats.stats["stat-total-memory"] > 0); i++) {
        await pause(200);
        stats = await m.qmp("qom-get", { path: "/machine/peripheral/bal0", property: "guest-stats" });
      }
      assert.ok(stats && stats.stats, JSON.stringify(stats));
      assert.is(stats.stats["stat-total-memory"], RAM, JSON.stringify(stats));
      assert.ok(stats.stats["stat-free-memory"] > 0 && stats.stats["stat-free-memory"] < RAM, JSON.stringify(stats));
      assert.is(stats.stats["stat-swap-in"], 0);
      console.log(`  ${mode}: guest-stats free ${stats.stats["stat-free-memory"]} total ${stats.stats["stat-total-memory"]}`);

      // 3. The other devices while inflated.
      const read = await m.command("blk read 0 8192");
      assert.is(read.status, 0, read.output);
      assert.is(read.output.trim(), `crc32=${crc}`);
      const rng = await m.command("rng 16");
      assert.match(rng.output.trim().split("\n").pop(), /^[0-9a-f]{32}$/);
      let address = null;
      for (let i = 0; i < 75 && address === null; i++) {
        address = jsonLine((await m.command("net info --json")).output).address;
        if (address === null) await pause(200);
      }
      assert.is(address, "10.0.2.15");
      const echo = await m.begin(`net udp-echo ${ECHO_PORT} --count 20`);
      await echo.waitFor(/udp-echo: serving/, 10000);
      const echoed = await udpEchoes(hostPort, 20);
      const done = await echo.finish({ timeoutMs: 20000 });
      assert.is(done.status, 0, done.output);
      assert.is(echoed, 20, "20 UDP datagrams echoed intact while inflated");

      // 4. Deflate: back to full size.
      await m.qmp("balloon", { value: RAM });
      const deflateMs = await waitForBalloon(m, RAM, 30000);
      console.log(`  ${mode}: deflated in ${deflateMs} ms`);
      const after = await shellBalloon(m);
      assert.is(after.actualPages, 0);
      const memAfter = jsonLine((await m.command("mem --json")).output);
      assert.is(memAfter.pages.held.balloon, 0);
      assert.is(memAfter.pages.freePages, memAfter.pages.totalPages);
    } finally {
      await m.close();
    }
  });
}

test("modern: deflate-on-oom=on: allocations past the free pool take pages back from the balloon", async () => {
  const m = await bootShell({ memory: MEMORY, commandTimeoutMs: 30000, devices: ["virtio-balloon-device,id=bal0,deflate-on-oom=on"] });
  try {
    const pool = jsonLine((await m.command("mem --json")).output).pages;
    const poolBytes = pool.totalPages * 4096;
    await m.qmp("balloon", { value: RAM - poolBytes });
    await waitForBalloon(m, RAM - poolBytes, 60000);
    const inflated = await shellBalloon(m);
    assert.ok(inflated.negotiated.deflateOnOom);
    assert.is(inflated.actualPages, pool.totalPages, "the whole pool is in the balloon");
    // 100 pages asked for with no free page: each is taken back from the balloon.
    const r = await m.command("js (() => { const got = []; for (let i = 0; i < 100; i++) got.push(platform.pages.alloc()); const ok = got.length; for (const p of got) p.bytes[0] = 1; return JSON.stringify({ ok }); })()");
    assert.is(r.status, 0, r.output);
    assert.match(r.output, /"ok":100/);
    let after = null;
    for (let i = 0; i < 50; i++) {
      after = await shellBalloon(m);
      if (after.actualPages === pool.totalPages - 100) break;
      await pause(100);
    }
    assert.is(after.actualPages, pool.totalPages - 100, "the device was told of the 100 pages");
    assert.is(after.counters.oomPages, 100);
    const q = await m.qmp("query-balloon");
    assert.is(q.actual, RAM - (pool.totalPages - 100) * 4096, "QEMU agrees");
  } finally {
    await m.close();
  }
});

test("modern: free-page-reporting=on: free pool pages are reported, then back in the pool", async () => {
  const m = await bootShell({ memory: MEMORY, commandTimeoutMs: 30000, devices: ["virtio-balloon-device,id=bal0,free-page-reporting=on"] });
  try {
    let b = null;
    for (let i = 0; i < 100; i++) {
      b = await shellBalloon(m);
      if (b.counters.reports >= 1 && b.counters.reportedPages > 0) break;
      await pause(100);
    }
    assert.ok(b.negotiated.reporting, JSON.stringify(b.negotiated));
    assert.ok(b.counters.reports >= 1, JSON.stringify(b.counters));
    const pool = jsonLine((await m.command("mem --json")).output).pages;
    assert.ok(b.counters.reportedPages >= pool.totalPages * 0.9, `most of the pool reported: ${b.counters.reportedPages} of ${pool.totalPages}`);
    let after = pool;
    for (let i = 0; i < 50 && after.freePages !== after.totalPages; i++) {
      await pause(100);
      after = jsonLine((await m.command("mem --json")).output).pages;
    }
    assert.is(after.freePages, after.totalPages, "reported pages are the pool's again once acknowledged");
    console.log(`  reported ${b.counters.reportedPages} pages in ${b.counters.reports} report(s)`);
  } finally {
    await m.close();
  }
});

test.run();
