// Devicetree Specification v0.4 §2.3.4: a node's `status` says whether the device is
// operational: "okay" (or no status at all) is, "disabled", "reserved", "fail" and
// "fail-sss" are not. Windows that are not operational are not virtio windows of the board.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseBoardInfo } from "../../../platform/fdt.js";
import { virtLike, writeFdt, type NodeSpec } from "./fdt-writer.js";

function withStatus(windows: { base: number; spi: number; status?: string }[], parentStatus?: string): NodeSpec {
  const tree = virtLike([]);
  const nodes: NodeSpec[] = windows.map((w) => ({
    name: `virtio_mmio@${w.base.toString(16)}`,
    props: { compatible: "virtio,mmio", reg: [0, w.base, 0, 0x200], interrupts: [0, w.spi, 1], ...(w.status === undefined ? {} : { status: w.status }) },
  }));
  if (parentStatus === undefined) tree.children!.push(...nodes);
  else {
    tree.children!.push({
      name: "bus@a000000",
      props: { compatible: "simple-bus", "#address-cells": [2], "#size-cells": [2], ranges: [], status: parentStatus },
      children: nodes,
    });
  }
  return tree;
}

test('windows with status "disabled", "reserved" or "fail" are skipped; "okay", "ok" and no status are kept', () => {
  const blob = writeFdt(
    withStatus([
      { base: 0x0a000000, spi: 16, status: "disabled" },
      { base: 0x0a000200, spi: 17, status: "okay" },
      { base: 0x0a000400, spi: 18 },
      { base: 0x0a000600, spi: 19, status: "reserved" },
      { base: 0x0a000800, spi: 20, status: "fail-sss" },
      { base: 0x0a000a00, spi: 21, status: "ok" },
    ]),
  );
  const { virtioMmio } = parseBoardInfo(blob);
  assert.equal(virtioMmio.map((w) => [w.slot, w.base]), [[0, 0x0a000200], [1, 0x0a000400], [2, 0x0a000a00]]);
});

test("windows under a disabled parent are skipped", () => {
  const blob = writeFdt(withStatus([{ base: 0x0a000000, spi: 16 }, { base: 0x0a000200, spi: 17, status: "okay" }], "disabled"));
  assert.equal(parseBoardInfo(blob).virtioMmio, []);
});

test("a disabled memory node is not the RAM bank", () => {
  const tree = virtLike([{ base: 0x0a000000, spi: 16 }]);
  tree.children!.unshift({ name: "memory@80000000", props: { device_type: "memory", reg: [0, 0x80000000, 0, 0x1000000], status: "disabled" } });
  assert.equal(parseBoardInfo(writeFdt(tree)).ram, { base: 0x40000000, size: 0x4000000 });
});

test.run();
