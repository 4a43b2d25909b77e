// The bare-metal memory hotplug's range check (platform/xs/memory-hotplug.ts) on QEMU's
// own device tree: only whole sections above RAM that no device window covers.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { parseBoardInfo } from "../../../platform/fdt.js";
import { hotplugRefusal } from "../../../platform/xs/memory-hotplug.js";

const dtb = readFileSync(new URL("../../../../../tests/unit/fdt/fixtures/qemu-virt-7.2-128M.dtb", import.meta.url));
const board = parseBoardInfo(new Uint8Array(dtb));
const MiB = 1 << 20;

test("virtio-mem's region on virt (0x80000000, 2 MiB blocks) may be mapped", () => {
  assert.is(hotplugRefusal(board, 0x8000_0000, 2 * MiB), null);
  assert.is(hotplugRefusal(board, 0x9ff0_0000, MiB), null);
});

test("RAM, device windows, partial sections and addresses past 4 GiB are refused", () => {
  assert.match(String(hotplugRefusal(board, 0x4000_0000, MiB)), /overlaps RAM/);
  assert.match(String(hotplugRefusal(board, 0x0a00_0000, MiB)), /overlaps virtio-mmio/);
  assert.match(String(hotplugRefusal(board, 0x8000_1000, MiB)), /1 MiB sections/);
  assert.match(String(hotplugRefusal(board, 0x8000_0000, 64 * 1024)), /1 MiB sections/);
  assert.match(String(hotplugRefusal(board, 0xfff0_0000, 2 * MiB)), /beyond 4 GiB/);
  assert.match(String(hotplugRefusal(board, 0x0800_0000, MiB)), /below the end of RAM/, "the GIC is below RAM");
  if (board.pci) assert.match(String(hotplugRefusal(board, board.pci.windows[0]!.cpuBase, MiB)), /PCI|ECAM|below/);
});

test.run();
