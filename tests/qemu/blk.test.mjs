// virtio-blk on QEMU, legacy and modern, through the shell: `blk read 0 32768` over a
// random 16 MiB image prints the image's CRC-32; `blk fill 100 8 5a`, `blk flush`,
// `poweroff` leave 0x5a in sectors 100-107 and nothing else changed; a read-only disk
// with a serial number (GET_ID, refused writes); a bad LBA; the capacity following QMP
// `block_resize`. About 4 s per mode on the machine this was written on.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32Hex, makeFilledImage, makeRandomImage, pseudoRandomBytes, SECTOR } from "virtio-xs/hil";
import { bootShell } from "./lib/firmware.mjs";

const dir = mkdtempSync(join(tmpdir(), "virtio-blk-test-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1 << 20;
const SERIAL = "xs-blk-serial-01";

async function run(m, line) {
  const r = await m.command(line);
  return { ...r, output: r.output.trim() };
}

for (const legacy of [false, true]) {
  const mode = legacy ? "legacy" : "modern";

  test(`${mode}: read 16 MiB (CRC-32), fill + flush + poweroff, read-only serial disk, bad LBA, block_resize`, async () => {
    const started = Date.now();
    const seed = legacy ? 11 : 12;
    const main = makeRandomImage(join(dir, `${mode}-main.img`), 16 * MiB, seed);
    const ro = makeRandomImage(join(dir, `${mode}-ro.img`), MiB, seed + 100);
    const grow = makeFilledImage(join(dir, `${mode}-grow.img`), MiB, 0);
    const original = pseudoRandomBytes(16 * MiB, seed);
    const m = await bootShell({
      legacy,
      commandTimeoutMs: 30000,
      disks: [main, { path: ro, readonly: true, serial: SERIAL }, grow],
    });
    try {
      // 1. The whole 16 MiB, streamed, checked against the host's CRC-32.
      const t = Date.now();
      const read = await run(m, "blk read 0 32768");
      const readMs = Date.now() - t;
      assert.is(read.status, 0, read.output);
      assert.is(read.output, `crc32=${crc32Hex(original)}`);
      console.log(`  ${mode}: blk read 0 32768 in ${readMs} ms`);

      // 2. Past the end: a clear error before anything is sent.
      const bad = await run(m, "blk read 32768 1");
      assert.is(bad.status, 1);
      assert.match(bad.output, /BlkRangeError: .*beyond the end of the disk/);

      const info = await run(m, "blk info");
      assert.match(info.output, /capacity\s+32768 sectors/);
      assert.match(info.output, /read-only\s+no/);

      // 3. The read-only disk with a serial number.
      const list = await run(m, "blk dev 1");
      assert.is(list.status, 0, list.output);
      assert.match(list.output, /^0 .*\n\* 1 .*2048 sectors\n {2}2 /, list.output);
      assert.equal(await run(m, "blk id"), { output: SERIAL, status: 0 });
      const roInfo = await run(m, "blk info");
      assert.match(roInfo.output, /read-only\s+yes/);
      const refused = await run(m, "blk fill 0 1 ff");
      assert.is(refused.status, 1);
      assert.match(refused.output, /BlkReadOnlyError: .*read-only/);
      const roRead = await run(m, "blk read 0 2048");
      assert.is(roRead.output, `crc32=${crc32Hex(readFileSync(ro))}`);

      // 4. QMP block_resize: the capacity follows the configuration change.
      assert.is((await run(m, "blk dev 2")).status, 0);
      await m.qmp("block_resize", { device: m.disks[2].id, size: 3 * MiB });
      let capacity = "";
      for (let i = 0; i < 40 && !/6144 sectors/.test(capacity); i++) {
        capacity = (await run(m, "blk info")).output;
        if (!/6144 sectors/.test(capacity)) await new Promise((done) => setTimeout(done, 50));
      }
      assert.match(capacity, /capacity\s+6144 sectors/);
      assert.is((await run(m, "blk read 6000 144")).status, 0, "the new sectors are readable");

      // 5. fill, flush, power off: exactly sectors 100-107 hold 0x5a.
      assert.is((await run(m, "blk dev 0")).status, 0);
      const fill = await run(m, "blk fill 100 8 5a");
      assert.is(fill.status, 0, fill.output);
      assert.equal(await run(m, "blk flush"), { output: "flushed", status: 0 });
      assert.is(await m.poweroff(), 0, "QEMU exit status");
    } finally {
      await m.close();
    }
    const after = readFileSync(main);
    assert.is(after.length, 16 * MiB);
    const expected = Buffer.from(original);
    expected.fill(0x5a, 100 * SECTOR, 108 * SECTOR);
    assert.ok(after.subarray(100 * SECTOR, 108 * SECTOR).every((b) => b === 0x5a), "sectors 100-107 hold 0x5a");
    assert.ok(after.equals(expected), "nothing else changed");
    assert.is(statSync(grow).size, 3 * MiB);
    console.log(`  ${mode}: whole test in ${Date.now() - started} ms`);
  });
}

test.run();
