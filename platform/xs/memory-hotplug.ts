// Platform.memoryHotplug on the bare-metal board: hot-plugged RAM (virtio-mem) mapped by the
// MMU (platform/xs/mmu.c mmu_hotplug, through __xsMapRam / __xsUnmapRam). The range is
// checked here against what the device tree says is already there (RAM, virtio-mmio
// windows, the PCI bridge's windows, ECAM and MSI frame) before C checks its own rule
// (whole 1 MiB sections above RAM, below 4 GiB): a device cannot get a register window or
// the firmware's own memory mapped as RAM by naming it as its region.

import type { BoardInfo, DmaRegion, MemoryHotplug } from "../platform.js";

function overlaps(a: number, asize: number, b: number, bsize: number): boolean {
  return a < b + bsize && b < a + asize;
}

/** Why [phys, phys + size) cannot be hot-plugged RAM on `board`, or null. */
export function hotplugRefusal(board: BoardInfo, phys: number, size: number): string | null {
  if (!Number.isSafeInteger(phys) || !Number.isSafeInteger(size) || size <= 0) return "not a range";
  if (phys % 0x10_0000 !== 0 || size % 0x10_0000 !== 0) return "not whole 1 MiB sections";
  if (phys + size > 2 ** 32) return "beyond 4 GiB";
  const taken: [string, number, number][] = [["RAM", board.ram.base, board.ram.size]];
  for (const w of board.virtioMmio) taken.push([`virtio-mmio slot ${w.slot}`, w.base, w.size]);
  const pci = board.pci;
  if (pci) {
    taken.push(["PCI ECAM", pci.ecam.base, pci.ecam.size]);
    for (const w of pci.windows) taken.push([`PCI ${w.kind} window`, w.cpuBase, w.size]);
    if (pci.msiFrame) taken.push(["MSI frame", pci.msiFrame.base, pci.msiFrame.size]);
  }
  for (const [name, base, len] of taken) {
    if (overlaps(phys, size, base, len)) return `overlaps ${name} (0x${base.toString(16)}+0x${len.toString(16)})`;
  }
  if (phys < board.ram.base + board.ram.size) return "below the end of RAM";
  return null;
}

export function xsMemoryHotplug(board: BoardInfo): MemoryHotplug {
  return Object.freeze({
    map(phys: number, size: number): DmaRegion {
      const why = hotplugRefusal(board, phys, size);
      if (why !== null) throw new RangeError(`memory hotplug: 0x${phys.toString(16)}+0x${size.toString(16)} ${why}`);
      return Object.freeze({ phys, bytes: new Uint8Array(__xsMapRam(phys, size) as unknown as ArrayBuffer) });
    },
    unmap(phys: number, size: number): void {
      __xsUnmapRam(phys, size);
    },
  });
}
