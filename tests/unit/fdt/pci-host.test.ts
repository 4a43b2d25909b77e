// platform/fdt-pci.ts: the PCIe host bridge of QEMU's virt DTB into BoardInfo.pci.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { parseBoardInfo } from "../../../platform/fdt.js";

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../../../../tests/unit/fdt/fixtures/${name}`, import.meta.url)));

test("virt,highmem=off: ECAM at 0x3f000000 (buses 0-15), I/O and 32-bit memory windows, v2m frame", () => {
  const pci = parseBoardInfo(fixture("qemu-virt-7.2-highmem-off-128M.dtb")).pci!;
  assert.ok(pci);
  assert.equal(pci.ecam, { base: 0x3f000000, size: 0x1000000 });
  assert.equal([pci.busStart, pci.busEnd], [0, 15]);
  assert.equal(pci.windows, [
    { kind: "io", prefetchable: false, pciBase: 0, cpuBase: 0x3eff0000, size: 0x10000 },
    { kind: "mem32", prefetchable: false, pciBase: 0x10000000, cpuBase: 0x10000000, size: 0x2eff0000 },
  ]);
  assert.equal(pci.msiFrame, { base: 0x08020000, size: 0x1000 });
  assert.equal(pci.interruptMask, { device: 3, pin: 7 });
});

test("virt interrupt-map: INTA-INTD swizzled over SPIs 3-6 (INTID 35-38)", () => {
  const pci = parseBoardInfo(fixture("qemu-virt-7.2-highmem-off-128M.dtb")).pci!;
  assert.is(pci.interruptMap.length, 16);
  const route = (device: number, pin: number) => pci.interruptMap.find((r) => r.device === device && r.pin === pin)!.irq;
  assert.equal([route(0, 1), route(0, 4), route(1, 1), route(1, 4), route(3, 1)], [35, 38, 36, 35, 38]);
});

test("virt with highmem on: the ECAM above 4 GiB is not reachable, so no pci", () => {
  const info = parseBoardInfo(fixture("qemu-virt-7.2-128M.dtb"));
  assert.is(info.pci, null);
});

test.run();
