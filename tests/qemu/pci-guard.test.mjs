// The mmio natives reach PCI only where the PCI layer assigned and claimed a BAR (and
// ECAM, and the MSI frame): not the rest of the bridge's I/O and memory windows. A read
// just past the rng's BARs, or of PCI I/O address 0, is refused with a clear error and
// the shell stays up; a write to a BAR register in ECAM closes that function's claims
// until the BAR is claimed again (platform.pciBars.claim).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BOARD_MAP, bootShell, jsonLine } from "./lib/firmware.mjs";

/** virt's PCI I/O window (CPU 0x3eff0000 = PCI I/O 0) and ECAM (highmem=off). */
// The board's PCI windows (boards/<board>/board.json memoryMap.pciEcam, where a board states
// them: riscv64); the arm boards' `virt` with highmem=off otherwise.
const PCI_TEXT = typeof BOARD_MAP?.pciEcam === "string" ? BOARD_MAP.pciEcam : "";
const ECAM = Number(PCI_TEXT.match(/^(0x[0-9a-f]+)/i)?.[1] ?? 0x3f000000);
const IO_WINDOW = Number(PCI_TEXT.match(/I\/O window (0x[0-9a-f]+)/i)?.[1] ?? 0x3eff0000);
const hex = (n) => `0x${n.toString(16).padStart(8, "0")}`;
const lastLine = (output) => output.trim().split("\n").pop().trim();

let m;
let bars;
test.before(async () => {
  m = await bootShell({ devices: ["virtio-rng-pci"] });
  const r = await m.command("pci --json");
  assert.is(r.status, 0, r.output);
  const rng = jsonLine(r.output).find((f) => f.address === "00:01.0");
  bars = rng.bars.filter((b) => b.address !== null).map((b) => ({ ...b, base: Number(b.address) }));
});
test.after(async () => { await m?.close(); });

const js = (expr) => m.command(`js ${expr}`);

test("a read inside a claimed BAR reaches the device; the rng works", async () => {
  const mem = bars.find((b) => b.kind !== "io");
  const r = await js(`__xsMmioRead32(${hex(mem.base)})`);
  assert.is(r.status, 0, r.output);
  const rng = await m.command("rng 8");
  assert.is(rng.status, 0, rng.output);
});

test("a read past the end of the function's memory BARs, inside the memory window, is refused", async () => {
  const end = Math.max(...bars.filter((b) => b.kind !== "io").map((b) => b.base + b.size));
  const r = await js(`__xsMmioRead32(${hex(end)})`);
  assert.is(r.status, 1, r.output);
  assert.match(r.output, /RangeError/);
  assert.match(r.output, new RegExp(`${hex(end)} is in a PCI window but in no BAR the PCI layer assigned and claimed`));
});

test("PCI I/O address 0 (no BAR there) is refused; so is the window's last word", async () => {
  for (const a of [IO_WINDOW, IO_WINDOW + 0xfffc]) {
    const r = await js(`__xsMmioRead32(${hex(a)})`);
    assert.is(r.status, 1, r.output);
    assert.match(r.output, /in no BAR the PCI layer assigned and claimed/);
  }
});

test("a write to a BAR register in ECAM closes the claims; claiming again reopens exactly that BAR", async () => {
  const mem = bars.find((b) => b.kind !== "io");
  const config = ECAM + (1 << 15); // 00:01.0
  const reg = config + 0x10 + 4 * mem.index;
  // The same value back: the BAR does not move, but the natives cannot know that.
  let r = await js(`__xsMmioWrite32(${hex(reg)}, __xsMmioRead32(${hex(reg)}))`);
  assert.is(r.status, 0, r.output);
  r = await js(`__xsMmioRead32(${hex(mem.base)})`);
  assert.is(r.status, 1, r.output);
  assert.match(r.output, /in no BAR the PCI layer assigned and claimed/);
  r = await js(`platform.pciBars.claim(${hex(config)}, ${mem.index})`);
  assert.is(r.status, 0, r.output);
  assert.is(Number(lastLine(r.output)), mem.base, "the claim gives the BAR's CPU address");
  r = await js(`__xsMmioRead32(${hex(mem.base)})`);
  assert.is(r.status, 0, r.output);
  r = await js(`platform.pciBars.claim(${hex(config + 4)}, 0)`);
  assert.is(r.status, 1, r.output);
  assert.match(r.output, /not the start of a function's configuration space/);
  r = await js(`platform.pciBars.claim(${hex(ECAM + (9 << 15))}, 0)`);
  assert.is(r.status, 1, r.output);
  assert.match(r.output, /no function at/);
});

test("after the refused accesses the shell still answers", async () => {
  const r = await js("6*7");
  assert.is(r.status, 0, r.output);
  assert.is(lastLine(r.output), "42");
});

test.run();
