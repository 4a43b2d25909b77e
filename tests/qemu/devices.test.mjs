// `devices --json` on QEMU: a disk and an entropy device given in that order sit in the top
// two slots (QEMU fills virtio-mmio transports from the top, in command-line order: 31 and
// 30 on arm, IRQ = INTID 48 + slot; 7 and 6 on riscv64, PLIC source 1 + slot), transport
// version 2 (modern) or 1 (legacy).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRandomImage } from "virtio-xs/hil";
import { bootShell, jsonLine, mmioSlot } from "./lib/firmware.mjs";

const dir = mkdtempSync(join(tmpdir(), "virtio-devices-test-"));
const disk = makeRandomImage(join(dir, "d.img"), 1 << 20, 7);
test.after(() => rmSync(dir, { recursive: true, force: true }));

const hex = (s) => (typeof s === "number" ? s : parseInt(String(s), 16));

async function listDevices(legacy) {
  const m = await bootShell({ legacy, devices: [{ disk }, "virtio-rng-device"] });
  try {
    const r = await m.command("devices --json");
    assert.is(r.status, 0, r.output);
    return jsonLine(r.output);
  } finally {
    await m.close();
  }
}

function checkPair(list, version) {
  assert.ok(Array.isArray(list), "a JSON array");
  const blk = list.find((d) => d.deviceId === 2);
  const rng = list.find((d) => d.deviceId === 4);
  assert.ok(blk, `a block device in ${JSON.stringify(list)}`);
  assert.ok(rng, `an entropy device in ${JSON.stringify(list)}`);
  assert.is(list.length, 2, "only the transports that hold a device");
  const [blkAt, rngAt] = [mmioSlot(0), mmioSlot(1)];
  assert.is(blk.slot, blkAt.slot);
  assert.is(rng.slot, rngAt.slot);
  assert.is(hex(blk.base), blkAt.base);
  assert.is(hex(rng.base), rngAt.base);
  assert.is(blk.irq, blkAt.irq);
  assert.is(rng.irq, rngAt.irq);
  assert.is(blk.type, "blk");
  assert.is(rng.type, "rng");
  for (const d of [blk, rng]) {
    assert.is(d.version, version);
    assert.is(hex(d.vendor), 0x554d4551, "vendor QEMU");
    assert.type(d.status, "string");
    assert.match(String(d.features), /^(0x)?[0-9a-f]+$/i);
  }
}

test("modern: blk (2) in the top slot, rng (4) below it, version 2", async () => {
  checkPair(await listDevices(false), 2);
});

test("legacy: the same devices with version 1", async () => {
  checkPair(await listDevices(true), 1);
});

test.run();
