// The `blk` shell command over the real driver and the strict model: info, read with
// the CRC-32 of the range (checked against zlib's), fill, flush, id, dev, and clear
// errors with status 1.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { blkCommand } from "../../../apps/shell/commands/blk.js";
import { crc32, crc32Dma, crc32Hex } from "../../../apps/shell/crc32.js";
import { Shell } from "../../../apps/shell/shell.js";
import { BlkDevice } from "../../../platform/host/devices/blk-device.js";
import { BlkDriver } from "../../../drivers/blk/blk-driver.js";
import { finish, rig, VERSIONS } from "../core/rig.js";
import { blkRig, pattern, type BlkRig } from "./blk-rig.js";

/** The reference CRC-32, bit by bit (as zlib's): an oracle written apart from apps/shell/crc32.ts. */
function zlibCrc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

async function shellOn(r: BlkRig | (ReturnType<typeof rig> & { driver: BlkDriver })) {
  const shell = new Shell({ platform: r.model.platform, bus: r.bus, commands: [blkCommand(r.driver, { chunkSectors: 16, depth: 3 })] });
  shell.start();
  const con = r.model.console;
  const run = async (line: string): Promise<[string, number]> => {
    con.takeOutput();
    con.type(`${line}\r`);
    const deadline = Date.now() + 3000;
    while (!/@@status \d+\r\nvirtio> $/.test(con.output) && Date.now() < deadline) await new Promise((done) => setImmediate(done));
    const out = con.takeOutput();
    const m = /^([\s\S]*?)@@status (\d+)\r\nvirtio> $/.exec(out);
    assert.ok(m, `a status line in ${JSON.stringify(out)}`);
    return [m![1]!.replace(/\r\n/g, "\n"), Number(m![2])];
  };
  await run("batch on");
  return run;
}

test("crc32 matches the bitwise reference, also when continued piecewise", () => {
  assert.is(crc32Hex(crc32(new TextEncoder().encode("123456789"))), "cbf43926");
  for (const n of [0, 1, 7, 8, 9, 63, 64, 65, 4097]) {
    const b = pattern(9).subarray(0, n);
    const cut = Math.floor(n / 3);
    assert.is(crc32(b), zlibCrc32(b) >>> 0, `${n} bytes`);
    assert.is(crc32(b.subarray(cut), crc32(b.subarray(0, cut))), zlibCrc32(b) >>> 0, `${n} bytes in two`);
  }
});

test("crc32Dma: JavaScript without a native, the native when the platform installs one", () => {
  const bytes = pattern(3);
  const buffer = { phys: 0x4000_0000, bytes };
  assert.is(crc32Dma(buffer, 1000), zlibCrc32(bytes.subarray(0, 1000)));
  const g = globalThis as { __xsDmaCrc32?: unknown };
  const calls: number[][] = [];
  g.__xsDmaCrc32 = (phys: number, length: number, crc: number) => (calls.push([phys, length, crc]), 0xfffffffe);
  try {
    assert.is(crc32Dma(buffer, 512, 7), 0xfffffffe);
    assert.equal(calls, [[0x4000_0000, 512, 7]]);
  } finally {
    delete g.__xsDmaCrc32;
  }
});

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: blk read prints the CRC-32 of the range, streamed in chunks`, async () => {
    const r = await blkRig(version, {}, { maxRequestBytes: 4096 });
    const run = await shellOn(r);
    assert.equal(await run("blk read 0 256"), [`crc32=${crc32Hex(zlibCrc32(r.disk.image) >>> 0)}\n`, 0]);
    assert.equal(await run("blk read 5 37"), [`crc32=${crc32Hex(zlibCrc32(r.disk.image.subarray(5 * 512, 42 * 512)) >>> 0)}\n`, 0]);
    await finish(r);
  });

  test(`${v}: blk fill writes that byte, and only there; flush; id; info`, async () => {
    const r = await blkRig(version, { id: "shell-disk" });
    const before = r.disk.image.slice();
    const run = await shellOn(r);
    const [out, status] = await run("blk fill 100 40 5a");
    assert.is(status, 0, out);
    assert.match(out, /wrote 40 sectors of 0x5a at 100/);
    const img = r.disk.image;
    assert.ok(img.subarray(100 * 512, 140 * 512).every((b) => b === 0x5a));
    assert.equal(img.subarray(0, 100 * 512), before.subarray(0, 100 * 512));
    assert.equal(img.subarray(140 * 512), before.subarray(140 * 512));
    assert.equal(await run("blk flush"), ["flushed\n", 0]);
    assert.is(r.disk.counters.unflushedBytes, 0);
    assert.equal(await run("blk id"), ["shell-disk\n", 0]);
    const [info] = await run("blk info");
    assert.match(info, /capacity\s+256 sectors, 131072 \(128\.0 KiB\) bytes/);
    assert.match(info, /read-only\s+no/);
    await finish(r);
  });

  test(`${v}: errors print a clear message with status 1`, async () => {
    const r = await blkRig(version, { readOnly: true });
    const run = await shellOn(r);
    const [range, s1] = await run("blk read 250 10");
    assert.is(s1, 1);
    assert.match(range, /^BlkRangeError: .*beyond the end of the disk/);
    const [zero, s2] = await run("blk read 0 0");
    assert.is(s2, 1);
    assert.match(zero, /count must be a positive integer/);
    const [ro, s3] = await run("blk fill 0 1 ff");
    assert.is(s3, 1);
    assert.match(ro, /^BlkReadOnlyError: .*read-only/);
    for (const bad of ["blk", "blk nope", "blk read x 1", "blk read 1", "blk fill 0 1 zz", "blk fill 0 1 100"]) {
      const [out, s] = await run(bad);
      assert.is(s, 1, bad);
      assert.match(out, /usage: blk/, bad);
    }
    assert.is(r.disk.counters.reads + r.disk.counters.writes, 0, "nothing was sent");
    await finish(r);
  });

  test(`${v}: blk dev picks among several disks`, async () => {
    const r = rig({ version, device: new BlkDevice({ image: pattern(64, 1), id: "first" }), model: { ramSize: 8 << 20, dmaSize: 4 << 20 } });
    r.model.attach(30, new BlkDevice({ image: pattern(32, 2), id: "second" }), { version });
    const driver = new BlkDriver();
    await r.bus.register(driver);
    await r.bus.scan();
    const run = await shellOn({ ...r, driver });
    assert.equal(await run("blk id"), ["first\n", 0]);
    const [list] = await run("blk dev");
    assert.match(list, /^\* 0  mmio@0x0a003e00  64 sectors\n  1  mmio@0x0a003c00  32 sectors\n$/);
    assert.is((await run("blk dev 1"))[1], 0);
    assert.equal(await run("blk id"), ["second\n", 0]);
    const [no, s] = await run("blk dev 2");
    assert.is(s, 1);
    assert.match(no, /no block device 2: 2 found/);
    assert.equal(await run("blk id"), ["second\n", 0], "selection kept");
    await finish(r);
  });
}

test("no block device: a clear message, status 1", async () => {
  const r = rig({ version: 2 });
  const driver = new BlkDriver();
  await r.bus.register(driver);
  await r.bus.scan();
  const run = await shellOn({ ...r, driver });
  assert.equal(await run("blk info"), ["no virtio-blk device\n", 1]);
  await finish(r);
});

test.run();
