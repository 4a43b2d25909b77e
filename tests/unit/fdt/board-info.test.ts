// platform/fdt.ts: BoardInfo from QEMU's real DTB and from hand-made trees.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { parseBoardInfo, parseFdtTree } from "../../../platform/fdt.js";
import { virtLike, writeFdt } from "./fdt-writer.js";

const fixture = new Uint8Array(
  readFileSync(new URL("../../../../../tests/unit/fdt/fixtures/qemu-virt-7.2-128M.dtb", import.meta.url)),
);

test("QEMU virt DTB: model and RAM", () => {
  const info = parseBoardInfo(fixture);
  assert.is(info.model, "linux,dummy-virt");
  assert.equal(info.ram, { base: 0x40000000, size: 128 * 1024 * 1024 });
});

test("QEMU virt DTB: 32 virtio-mmio windows in address order, slot = index, irq = 32 + SPI", () => {
  const { virtioMmio } = parseBoardInfo(fixture);
  assert.is(virtioMmio.length, 32);
  virtioMmio.forEach((w, i) => {
    assert.is(w.slot, i);
    assert.is(w.base, 0x0a000000 + i * 0x200);
    assert.is(w.size, 0x200);
    assert.is(w.irq, 48 + i);
  });
  assert.equal(virtioMmio[31], { slot: 31, base: 0x0a003e00, size: 0x200, irq: 79 });
});

test("the result is frozen", () => {
  const info = parseBoardInfo(fixture);
  assert.ok(Object.isFrozen(info) && Object.isFrozen(info.virtioMmio) && Object.isFrozen(info.virtioMmio[0]));
});

test("windows listed out of order are sorted by base; slots follow addresses", () => {
  const blob = writeFdt(virtLike([{ base: 0x0a000400, spi: 18 }, { base: 0x0a000000, spi: 16 }, { base: 0x0a000200, spi: 17 }]));
  const info = parseBoardInfo(blob);
  assert.equal(info.virtioMmio.map((w) => [w.slot, w.base, w.irq]), [[0, 0x0a000000, 48], [1, 0x0a000200, 49], [2, 0x0a000400, 50]]);
  assert.is(info.model, "test,virt");
  assert.equal(info.ram, { base: 0x40000000, size: 0x4000000 });
});

test("a blob inside a larger buffer (QEMU pads to 1 MiB) parses from its header's size", () => {
  const padded = new Uint8Array(fixture.length + 4096);
  padded.set(fixture);
  assert.is(parseBoardInfo(padded).virtioMmio.length, 32);
});

test("a tree with no virtio-mmio node gives an empty list", () => {
  assert.equal(parseBoardInfo(writeFdt(virtLike([]))).virtioMmio, []);
});

test("the tree keeps every node and property", () => {
  const root = parseFdtTree(fixture);
  assert.ok(root.children.some((c) => c.name === "pl011@9000000"));
  assert.ok(root.props.has("#address-cells"));
});

test.run();
