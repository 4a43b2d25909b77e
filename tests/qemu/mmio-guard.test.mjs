// The firmware's mmio natives reach only the virtio-mmio windows the DTB lists: a read of
// the interrupt controller (the GIC distributor on arm, the PLIC on riscv64) from
// JavaScript is refused with an error (the shell stays up), and a read inside a window
// reaches the device (the magic value of the top slot's transport).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BOARD_MAP, bootShell, mmioSlot } from "./lib/firmware.mjs";

/** "virt" little-endian (virtio-mmio MagicValue, VIRTIO 1.2 §4.2.2). */
const MAGIC = 0x74726976;
/** The interrupt controller (board.json memoryMap): a device JavaScript must never reach. */
const INTC = parseInt(BOARD_MAP.gicDistributor ?? BOARD_MAP.plic, 16);
const INTC_HEX = `0x${INTC.toString(16).padStart(8, "0")}`;
/** The top virtio-mmio slot, where QEMU puts the first `-device virtio-*-device`. */
const TOP = mmioSlot(0).base;
const TOP_HEX = `0x${TOP.toString(16).padStart(8, "0")}`;

let m;
test.before(async () => { m = await bootShell({ devices: ["virtio-rng-device"] }); });
test.after(async () => { await m?.close(); });

const lastLine = (output) => output.trim().split("\n").pop().trim();

test(`js __xsMmioRead32(${INTC_HEX}) (the interrupt controller) fails: outside the virtio-mmio windows`, async () => {
  const r = await m.command(`js __xsMmioRead32(${INTC_HEX})`);
  assert.is(r.status, 1, r.output);
  assert.match(r.output, /outside the virtio-mmio windows/);
  assert.match(r.output, INTC_HEX);
});

test(`js __xsMmioRead32(${TOP_HEX}) with virtio-rng in the top slot prints the magic value`, async () => {
  const r = await m.command(`js __xsMmioRead32(${TOP_HEX})`);
  assert.is(r.status, 0, r.output);
  assert.is(lastLine(r.output), String(MAGIC));
  assert.is(MAGIC, 1953655158);
  // The same window's DeviceID (offset 0x008) is the rng (4): it is the device attached.
  const id = await m.command(`js __xsMmioRead32(0x${(TOP + 8).toString(16).padStart(8, "0")})`);
  assert.is(id.status, 0, id.output);
  assert.is(lastLine(id.output), "4");
});

test("after the refused read the shell still answers", async () => {
  const r = await m.command("js 6*7");
  assert.is(r.status, 0, r.output);
  assert.is(lastLine(r.output), "42");
});

test.run();
