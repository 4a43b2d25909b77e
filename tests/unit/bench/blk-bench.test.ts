// `blk bench ...` (apps/shell/commands/blk-bench.ts) over the real driver and the strict
// blk model: one JSON line per workload, the sequential CRC-32 of the whole disk, every
// scattered read checked against the block's index and CRC, writes that keep the image
// checkable, the counters, and status 1 when a read does not match.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { blkCommand } from "../../../apps/shell/commands/blk.js";
import { crc32, crc32Hex } from "../../../apps/shell/crc32.js";
import { Shell } from "../../../apps/shell/shell.js";
import { finish, VERSIONS } from "../core/rig.js";
import { blkRig, type BlkRig } from "../blk/blk-rig.js";

const BLOCK = 4096;

/** A bench-format image: each 4 KiB block = index (u32 LE), CRC-32 of bytes 8.. (u32 LE), noise. */
function benchImage(blocks: number): Uint8Array {
  const img = new Uint8Array(blocks * BLOCK);
  const view = new DataView(img.buffer);
  let x = 12345;
  for (let i = 0; i < img.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    img[i] = x >>> 24;
  }
  for (let b = 0; b < blocks; b++) {
    view.setUint32(b * BLOCK, b, true);
    view.setUint32(b * BLOCK + 4, crc32(img.subarray(b * BLOCK + 8, (b + 1) * BLOCK)), true);
  }
  return img;
}

function blockChecks(img: Uint8Array, b: number): boolean {
  const view = new DataView(img.buffer, img.byteOffset);
  return view.getUint32(b * BLOCK, true) === b && view.getUint32(b * BLOCK + 4, true) === crc32(img.subarray(b * BLOCK + 8, (b + 1) * BLOCK));
}

async function benchShell(r: BlkRig) {
  const shell = new Shell({ platform: r.model.platform, bus: r.bus, commands: [blkCommand(r.driver)] });
  shell.start();
  const con = r.model.console;
  const run = async (line: string): Promise<[string, number]> => {
    con.takeOutput();
    con.type(`${line}\r`);
    const deadline = Date.now() + 3000;
    while (!/@@status \d+\r\nvirtio> $/.test(con.output) && Date.now() < deadline) await new Promise((done) => setImmediate(done));
    const m = /^([\s\S]*?)@@status (\d+)\r\nvirtio> $/.exec(con.takeOutput());
    assert.ok(m, "a status line");
    return [m![1]!.replace(/\r\n/g, "\n").trim(), Number(m![2])];
  };
  await run("batch on");
  const json = async (line: string): Promise<[Record<string, unknown>, number]> => {
    const [out, status] = await run(line);
    return [JSON.parse(out.split("\n").pop()!) as Record<string, unknown>, status];
  };
  return { run, json };
}

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: blk bench seq reads the whole disk into one region, pass after pass, each pass checked`, async () => {
    const image = benchImage(64);
    const r = await blkRig(version, { image: image.slice() }, { maxRequestBytes: 8192 });
    const { json } = await benchShell(r);
    const [out, status] = await json("blk bench seq 16 3 4");
    assert.is(status, 0);
    assert.is(out.bench, "seq");
    assert.is(out.bytes, image.length);
    assert.is(out.requestKiB, 16);
    assert.is(out.depth, 3);
    const passes = out.passes as { ms: number; mibps: number; crc32: string; requests: number; notifications: number; interrupts: number }[];
    assert.is(passes.length, 4);
    for (const p of passes) {
      // Every pass (the later ones after the region's block heads were overwritten) holds the whole image.
      assert.is(p.crc32, crc32Hex(crc32(image)));
      assert.is(p.requests, image.length / (16 * 1024), "one request per 16 KiB chunk");
      assert.ok(p.notifications >= 1 && p.notifications <= p.requests);
      assert.ok(p.interrupts >= 1, "the core's interrupt counter is found through the bus");
      assert.ok(typeof p.ms === "number" && typeof p.mibps === "number");
    }
    const [nocrc] = await json("blk bench seq 16 3 1 nocrc");
    assert.is((nocrc.passes as { crc32: unknown }[])[0]!.crc32, null);
    // The default request is the driver's largest direct one.
    const [dflt] = await json("blk bench seq");
    assert.is(dflt.requestKiB, (r.blk.info.maxSectorsPerDirectRequest * 512) / 1024);
    const [max] = await json("blk bench seq max 2 1");
    assert.is(max.requestKiB, dflt.requestKiB);
    assert.is(max.depth, 2);
    await finish(r);
  });

  test(`${v}: blk bench read4k checks every block at depth 1 and 8`, async () => {
    const r = await blkRig(version, { image: benchImage(64) });
    const { json } = await benchShell(r);
    for (const depth of [1, 8]) {
      const [out, status] = await json(`blk bench read4k 40 ${depth} 7`);
      assert.is(status, 0, `depth ${depth}`);
      assert.is(out.verified, 40);
      assert.is(out.bad, 0);
      assert.is(out.requests, 40);
      assert.is(out.depth, depth);
      // The checks' own time is measured apart and left out of iops.
      assert.ok((out.checkMs as number) >= 0 && (out.iops as number) >= (out.iopsWithCheck as number));
      if (depth === 1) assert.is(out.notificationsPerRequest, 1);
    }
    await finish(r);
  });

  test(`${v}: blk bench read4k reports blocks that do not match, status 1`, async () => {
    const image = benchImage(16);
    for (let b = 0; b < 16; b++) image[b * BLOCK + 100] ^= 0xff; // every payload damaged
    const r = await blkRig(version, { image });
    const { json } = await benchShell(r);
    const [out, status] = await json("blk bench read4k 10 2");
    assert.is(status, 1);
    assert.is(out.bad, 10);
    assert.is(out.verified, 0);
    assert.ok((out.firstBad as number) >= 0 && (out.firstBad as number) < 16);
    await finish(r);
  });

  test(`${v}: blk bench write4k writes checkable blocks, then flushes`, async () => {
    const before = benchImage(32);
    const r = await blkRig(version, { image: before.slice() });
    const { json } = await benchShell(r);
    const [out, status] = await json("blk bench write4k 24 4 3");
    assert.is(status, 0);
    assert.is(out.bench, "write4k");
    assert.is(out.requests, 25, "24 writes and a flush");
    const after = r.disk.image;
    let changed = 0;
    for (let b = 0; b < 32; b++) {
      assert.ok(blockChecks(after, b), `block ${b} still checks`);
      if (after.subarray(b * BLOCK, (b + 1) * BLOCK).some((x, i) => x !== before[b * BLOCK + i])) changed++;
    }
    assert.ok(changed > 0);
    const [reread] = await json("blk bench read4k 30 4 9");
    assert.is(reread.bad, 0);
    await finish(r);
  });

  test(`${v}: blk bench with a bad subcommand or count is a usage error`, async () => {
    const r = await blkRig(version, { image: benchImage(4) });
    const { run } = await benchShell(r);
    const [bad, status] = await run("blk bench nope");
    assert.is(status, 1);
    assert.match(bad, /blk bench/);
    assert.is((await run("blk bench read4k 0 1"))[1], 1);
    await finish(r);
  });
}

test.run();
