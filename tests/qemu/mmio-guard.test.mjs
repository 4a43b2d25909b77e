// The firmware's mmio natives reach only the virtio-mmio windows the DTB lists: a read of
// the GIC distributor from JavaScript is refused with an error (the shell stays up), and a
// read inside a window reaches the device (the magic value of the slot-31 transport).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bootShell } from "./lib/firmware.mjs";

/** "virt" little-endian (virtio-mmio MagicValue, VIRTIO 1.2 §4.2.2). */
const MAGIC = 0x74726976;
/** GICv2 distributor on the `virt` board: a device JavaScript must never reach. */
const GIC_DIST = 0x08000000;
/** virtio-mmio slot 31, where QEMU puts the first `-device virtio-*-device`. */
const SLOT_31 = 0x0a003e00;

let m;
test.before(async () => { m = await bootShell({ devices: ["virtio-rng-device"] }); });
test.after(async () => { await m?.close(); });

const lastLine = (output) => output.trim().split("\n").pop().trim();

test("js __xsMmioRead32(0x08000000) (the GIC) fails: outside the virtio-mmio windows", async () => {
  const r = await m.command(`js __xsMmioRead32(0x${GIC_DIST.toString(16).padStart(8, "0")})`);
  assert.is(r.status, 1, r.output);
  assert.match(r.output, /outside the virtio-mmio windows/);
  assert.match(r.output, /0x08000000/);
});

test("js __xsMmioRead32(0x0a003e00) with virtio-rng in slot 31 prints the magic value", async () => {
  const r = await m.command(`js __xsMmioRead32(0x${SLOT_31.toString(16).padStart(8, "0")})`);
  assert.is(r.status, 0, r.output);
  assert.is(lastLine(r.output), String(MAGIC));
  assert.is(MAGIC, 1953655158);
  // The same window's DeviceID (offset 0x008) is the rng (4): it is the device attached.
  const id = await m.command(`js __xsMmioRead32(0x${(SLOT_31 + 8).toString(16).padStart(8, "0")})`);
  assert.is(id.status, 0, id.output);
  assert.is(lastLine(id.output), "4");
});

test("after the refused read the shell still answers", async () => {
  const r = await m.command("js 6*7");
  assert.is(r.status, 0, r.output);
  assert.is(lastLine(r.output), "42");
});

test.run();
