// virtio-9p on QEMU: a temp host directory shared by `-fsdev local` + virtio-9p-device
// (mount_tag host). `fs ls /` lists it, `fs cat` prints a file, files written from the
// firmware (1 byte, 4 KiB, 1 MiB; names with spaces and UTF-8) appear on the host with the
// same bytes, and a 16 MiB file copied to a blk disk and back keeps its CRC-32 (on the
// disk and on the host). Modern and legacy virtio-mmio.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32Hex, makeRandomImage, pseudoRandomBytes } from "../../tools/lib/disk-image.mjs";
import { bootShell } from "./lib/firmware.mjs";

const MiB = 1 << 20;
/** Bytes of the file copied to the disk and back (issue #14's acceptance: 16 MiB). */
const COPY_BYTES = 16 * MiB;
const dir = mkdtempSync(join(tmpdir(), "virtio-9p-test-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The bytes `fs fill PATH N SEED` writes (apps/shell/commands/fs.ts fillByte). */
function fillBytes(n, seed) {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (Math.imul(i, 31) + seed + (i >>> 8)) & 0xff;
  return out;
}

for (const legacy of [false, true]) {
const mode = legacy ? "legacy" : "modern";
test(`${mode}: ls, cat, files written from the firmware, a file copied to a blk disk and back`, async () => {
  const share = join(dir, `share-${mode}`);
  mkdirSync(join(share, "sub"), { recursive: true });
  writeFileSync(join(share, "hello.txt"), "hello from the host\n");
  const input = pseudoRandomBytes(COPY_BYTES, 41);
  writeFileSync(join(share, "in.bin"), input);
  const disk = makeRandomImage(join(dir, `disk-${mode}.img`), COPY_BYTES + 4 * MiB, 42);
  const m = await bootShell({
    legacy,
    commandTimeoutMs: 120000,
    qemuArgs: ["-fsdev", `local,id=fs0,path=${share},security_model=none`],
    devices: ["virtio-9p-device,fsdev=fs0,mount_tag=host", { disk }],
  });
  try {
    const ls = await m.command("fs ls /");
    assert.is(ls.status, 0, ls.output);
    const names = ls.output.split("\n").map((l) => l.trim()).filter((l) => l !== "");
    for (const n of ["hello.txt", "in.bin", "sub/"]) assert.ok(names.includes(n), `${n} in ${JSON.stringify(names)}`);

    const cat = await m.command("fs cat /hello.txt");
    assert.is(cat.status, 0, cat.output);
    assert.match(cat.output, "hello from the host");

    const written = [["/one byte", 1, 7], ["/four k é.bin", 4096, 8], ["/mebi файл 1.bin", MiB, 9]];
    for (const [path, n, seed] of written) {
      const r = await m.command(`fs fill "${path}" ${n} ${seed}`);
      assert.is(r.status, 0, r.output);
      const host = readFileSync(join(share, path.slice(1)));
      assert.is(host.length, n, path);
      assert.ok(host.equals(fillBytes(n, seed)), `${path}: same bytes on the host`);
    }
    const put = await m.command(`fs put "/note with spaces.txt" héllo wörld ✓`);
    assert.is(put.status, 0, put.output);
    assert.is(readFileSync(join(share, "note with spaces.txt"), "utf8"), "héllo wörld ✓");
    const ls2 = await m.command("fs ls /");
    assert.match(ls2.output, "mebi файл 1.bin");

    const crc = crc32Hex(input);
    const t0 = Date.now();
    const cp = await m.command("fs cp host:/in.bin blk:0");
    const toDiskMs = Date.now() - t0;
    assert.is(cp.status, 0, cp.output);
    assert.match(cp.output, `crc32 ${crc}`);
    const read = await m.command(`blk read 0 ${COPY_BYTES / 512}`);
    assert.is(read.output.trim(), `crc32=${crc}`, "the disk holds the file");
    const t1 = Date.now();
    const back = await m.command(`fs cp blk:0:${COPY_BYTES} "host:/back file.bin"`);
    const fromDiskMs = Date.now() - t1;
    assert.is(back.status, 0, back.output);
    assert.is(crc32Hex(readFileSync(join(share, "back file.bin"))), crc, "same CRC-32 on the host");
    console.log(`  ${mode}: ${COPY_BYTES / MiB} MiB host -> blk in ${toDiskMs} ms (${(COPY_BYTES / 1e3 / toDiskMs).toFixed(2)} MB/s), blk -> host in ${fromDiskMs} ms (${(COPY_BYTES / 1e3 / fromDiskMs).toFixed(2)} MB/s)`);

    const missing = await m.command("fs cat /nope");
    assert.is.not(missing.status, 0);
    assert.match(missing.output, "ENOENT");
  } finally {
    await m.close();
  }
});
}

test.run();
