// platform/fdt.ts + fdt-pci.ts on QEMU's riscv `virt` DTB (QEMU 7.2 `-M virt,dumpdtb=...
// -m 128M`, repacked by dtc): devices under /soc, the PLIC's one-cell interrupt specifiers.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { FdtError, parseBoardInfo } from "../../../platform/fdt.js";
import { writeFdt, type NodeSpec } from "./fdt-writer.js";

const fixture = new Uint8Array(
  readFileSync(new URL("../../../../../tests/unit/fdt/fixtures/qemu-virt-riscv64-7.2-128M.dtb", import.meta.url)),
);

test("riscv virt DTB: model and RAM at 0x80000000", () => {
  const info = parseBoardInfo(fixture);
  assert.is(info.model, "riscv-virtio,qemu");
  assert.equal(info.ram, { base: 0x80000000, size: 128 * 1024 * 1024 });
});

test("riscv virt DTB: 8 virtio-mmio windows at 0x10001000 + n*0x1000, PLIC sources 1-8", () => {
  const { virtioMmio } = parseBoardInfo(fixture);
  assert.equal(
    virtioMmio.map((w) => [w.slot, w.base, w.size, w.irq]),
    [0, 1, 2, 3, 4, 5, 6, 7].map((n) => [n, 0x10001000 + n * 0x1000, 0x1000, n + 1]),
  );
});

test("riscv virt DTB: PCIe ECAM at 0x30000000 (buses 0-255), INTx on PLIC sources 32-35", () => {
  const pci = parseBoardInfo(fixture).pci!;
  assert.ok(pci);
  assert.equal(pci.ecam, { base: 0x30000000, size: 0x10000000 });
  assert.equal([pci.busStart, pci.busEnd], [0, 255]);
  assert.equal(
    pci.windows.filter((w) => w.kind !== "mem64"),
    [
      { kind: "io", prefetchable: false, pciBase: 0, cpuBase: 0x3000000, size: 0x10000 },
      { kind: "mem32", prefetchable: false, pciBase: 0x40000000, cpuBase: 0x40000000, size: 0x40000000 },
    ],
  );
  assert.is(pci.msiFrame, null); // no AIA (IMSIC) without -M virt,aia=...: INTx only
  assert.is(pci.interruptMap.length, 16);
  const route = (device: number, pin: number) => pci.interruptMap.find((r) => r.device === device && r.pin === pin)!.irq;
  assert.equal([route(0, 1), route(0, 4), route(1, 1), route(1, 4), route(3, 1)], [32, 35, 33, 32, 35]);
});

/** A minimal tree: one virtio-mmio node whose interrupt parent is a PLIC. */
function plicTree(interrupts: number[]): NodeSpec {
  return {
    name: "",
    props: { "#address-cells": [2], "#size-cells": [2], model: "test,riscv" },
    children: [
      { name: "memory@80000000", props: { device_type: "memory", reg: [0, 0x80000000, 0, 0x4000000] } },
      {
        name: "soc",
        props: { "#address-cells": [2], "#size-cells": [2], compatible: "simple-bus", ranges: [] },
        children: [
          { name: "plic@c000000", props: { compatible: ["sifive,plic-1.0.0", "riscv,plic0"], "#interrupt-cells": [1], "interrupt-controller": [], phandle: [3], reg: [0, 0xc000000, 0, 0x600000] } },
          { name: "virtio_mmio@10001000", props: { compatible: "virtio,mmio", reg: [0, 0x10001000, 0, 0x1000], "interrupt-parent": [3], interrupts } },
        ],
      },
    ],
  };
}

test("a PLIC source outside 1-1023, or no cell, is an FdtError naming the node", () => {
  for (const [cells, message] of [[[0], /PLIC source 0 is not 1-1023/], [[1024], /PLIC source 1024/], [[], /interrupts needs 1 cell/]] as const) {
    try {
      parseBoardInfo(writeFdt(plicTree([...cells])));
      assert.unreachable("accepted");
    } catch (error) {
      assert.instance(error, FdtError);
      assert.match((error as Error).message, /virtio_mmio@10001000/);
      assert.match((error as Error).message, message);
    }
  }
  assert.is(parseBoardInfo(writeFdt(plicTree([95]))).virtioMmio[0]!.irq, 95);
});

test.run();
