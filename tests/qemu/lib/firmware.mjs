// Shared by the QEMU suites: where the firmware is, and a booted shell in batch mode, both
// through the project's own HIL library (virtio-xs/hil, hil/).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Board } from "virtio-xs/hil";
import { ROOT } from "../../../tools/lib/node-deps.mjs";
import { DEFAULT_BOARD } from "../../../tools/lib/qemu-board.mjs";

export { ROOT };
/** The firmware under test (env VIRTIO_FIRMWARE picks another ELF). */
export const FIRMWARE_ELF = process.env.VIRTIO_FIRMWARE ?? join(ROOT, "build", "fw", DEFAULT_BOARD, "firmware.elf");

/**
 * The board's virtio-mmio windows (boards/<board>/board.json `memoryMap.virtioMmio`):
 * QEMU fills them from the top slot down, in command-line order. `mmioSlot(n)` is where
 * the n-th virtio-*-device of the command line (0 first) lands: slot, base, interrupt line.
 */
const BOARD_JSON = JSON.parse(readFileSync(join(ROOT, "boards", DEFAULT_BOARD, "board.json"), "utf8"));
/** boards/<board>/board.json `memoryMap` of the board under test (documentation there: values are "0x..." strings). */
export const BOARD_MAP = BOARD_JSON.memoryMap;
/** The DTB's /model on the board under test (board.json `model`), as the banners print it. */
export const BOARD_MODEL = BOARD_JSON.model;
/** What the board's QEMU offers (board.json `capabilities`; absent means present): an MSI
 * controller for PCI (`pciMsi`), virtio-mem (`virtioMem`). */
export const BOARD_HAS = Object.freeze({
  pciMsi: BOARD_JSON.capabilities?.pciMsi !== false,
  virtioMem: BOARD_JSON.capabilities?.virtioMem !== false,
});
/** The first of the four interrupt lines PCI INTA-INTD are swizzled over (board.json memoryMap.pciIntx). */
export const PCI_INTX_FIRST = BOARD_MAP.pciIntx?.first ?? 35;
/** `test` if the board has `capability`, else `test.skip` (uvu prints it as skipped). */
export const testIf = (capability, test) => (BOARD_HAS[capability] ? test : test.skip);
/** The model as a RegExp source (its "," and "." taken literally). */
export const BOARD_MODEL_RE = BOARD_JSON.model.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
export const MMIO = (() => {
  const v = BOARD_MAP.virtioMmio;
  return Object.freeze({ base: parseInt(v.base, 16), stride: parseInt(v.stride, 16), count: v.count, firstIrq: v.firstIntid });
})();
export function mmioSlot(n) {
  const slot = MMIO.count - 1 - n;
  return { slot, base: MMIO.base + slot * MMIO.stride, irq: MMIO.firstIrq + slot };
}

/** Boots the firmware (modern unless `legacy`) to the shell: a Board the caller closes. */
export function bootShell(opts = {}) {
  // lifetimeS: even a test process killed with SIGKILL leaves QEMU running 10 min at most.
  return Board.boot({ firmware: FIRMWARE_ELF, bootTimeoutMs: 20000, commandTimeoutMs: 20000, lifetimeS: 600, ...opts });
}

/** The first line of `output` that parses as JSON. */
export function jsonLine(output) {
  for (const line of output.split("\n")) {
    const t = line.trim();
    if (!t.startsWith("[") && !t.startsWith("{")) continue;
    try { return JSON.parse(t); } catch { /* keep looking */ }
  }
  throw new Error(`no JSON line in:\n${output}`);
}
