// The PCIe host bridge node of a DTB (`pci-host-ecam-generic`, Linux's
// Documentation/devicetree/bindings/pci/host-generic-pci.yaml and the PCI bus binding,
// IEEE 1275 PCI): ECAM `reg`, `bus-range`, `ranges` (the I/O and memory windows),
// `interrupt-map` + `interrupt-map-mask` (INTx to GIC or PLIC lines) and the MSI frame that
// `msi-map` / `msi-parent` names. Big-endian cells, every length checked.

import type { PciHostInfo, PciInterruptRoute, PciWindow } from "./platform.js";
import { cellCount, cellsToNumber, FdtError, hasString, interruptLine, propCells, regOf, type FdtNode } from "./fdt.js";

const PCI_ADDRESS_CELLS = 3; // phys.hi, phys.mid, phys.lo
const SPACE_IO = 1;
const SPACE_MEM32 = 2;
const SPACE_MEM64 = 3;

/** The unit's `#address-cells` / `#interrupt-cells` as one number (absent = `fallback`). */
function ownCells(node: FdtNode, name: string, fallback: number): number {
  const v = node.props.get(name);
  if (!v) return fallback;
  const cells = propCells(v, node, name);
  if (cells.length !== 1) throw new FdtError(`${node.name}: ${name} must be one cell`, undefined, cells.length);
  return cells[0]!;
}

/** `ranges`: (child PCI address: 3 cells, parent address, size) per window. */
function windowsOf(node: FdtNode): PciWindow[] {
  const parentCells = cellCount(node.parent, "#address-cells", 2);
  const sizeCells = ownCells(node, "#size-cells", 2);
  const cells = propCells(node.props.get("ranges"), node, "ranges");
  const step = PCI_ADDRESS_CELLS + parentCells + sizeCells;
  if (cells.length % step !== 0) throw new FdtError(`${node.name}: ranges has ${cells.length} cells, not a multiple of ${step}`, undefined, cells.length);
  const out: PciWindow[] = [];
  for (let i = 0; i < cells.length; i += step) {
    const hi = cells[i]!;
    const space = (hi >>> 24) & 3;
    if (space === 0) continue; // configuration space: ECAM covers it
    const kind = space === SPACE_IO ? "io" : space === SPACE_MEM32 ? "mem32" : space === SPACE_MEM64 ? "mem64" : null;
    if (kind === null) continue;
    out.push({
      kind,
      prefetchable: (hi & 0x4000_0000) !== 0,
      pciBase: cellsToNumber(cells, i + 1, 2, node, "ranges"),
      cpuBase: cellsToNumber(cells, i + PCI_ADDRESS_CELLS, parentCells, node, "ranges"),
      size: cellsToNumber(cells, i + PCI_ADDRESS_CELLS + parentCells, sizeCells, node, "ranges"),
    });
  }
  return out;
}

/** `interrupt-map`: child (3 address cells + 1 pin), parent phandle, parent unit address
 * (the parent's #address-cells), parent interrupt (its #interrupt-cells: GIC <type num flags>,
 * PLIC <source>). Only level SPIs (GIC) or PLIC sources can carry INTx. */
function interruptMapOf(node: FdtNode, byPhandle: Map<number, FdtNode>): { mask: { device: number; pin: number }; routes: PciInterruptRoute[] } {
  const maskCells = propCells(node.props.get("interrupt-map-mask"), node, "interrupt-map-mask");
  const mask = maskCells.length === 4 ? { device: (maskCells[0]! >>> 11) & 0x1f, pin: maskCells[3]! } : { device: 0x1f, pin: 7 };
  const cells = propCells(node.props.get("interrupt-map"), node, "interrupt-map");
  const routes: PciInterruptRoute[] = [];
  let i = 0;
  while (i < cells.length) {
    if (i + 5 > cells.length) throw new FdtError(`${node.name}: interrupt-map entry at cell ${i} is truncated`, undefined, i);
    const hi = cells[i]!;
    const pin = cells[i + 3]!;
    const phandle = cells[i + 4]!;
    const parent = byPhandle.get(phandle);
    if (!parent) throw new FdtError(`${node.name}: interrupt-map names phandle 0x${phandle.toString(16)}, which no node has`, undefined, phandle);
    const addressCells = ownCells(parent, "#address-cells", 0);
    const interruptCells = ownCells(parent, "#interrupt-cells", 3);
    const at = i + 5 + addressCells;
    if (at + interruptCells > cells.length || interruptCells < 1) throw new FdtError(`${node.name}: interrupt-map entry at cell ${i} is truncated`, undefined, i);
    const entry = i;
    const what = (): string => `${node.name} interrupt-map entry at cell ${entry}`; // for errors only
    const { line, cells: used } = interruptLine(parent, cells, at, what);
    if (used !== interruptCells) throw new FdtError(`${what()}: #interrupt-cells ${interruptCells} does not fit the controller's binding`, undefined, interruptCells);
    if (line < 32 && used === 3) throw new FdtError(`${what()}: routes to a non-SPI interrupt ${line}`, undefined, line);
    routes.push({ device: (hi >>> 11) & 0x1f, pin, irq: line });
    i = at + interruptCells;
  }
  return { mask, routes };
}

/** The MSI controller frame: `msi-map` <rid-base phandle msi-base length> or `msi-parent`. */
function msiFrameOf(node: FdtNode, byPhandle: Map<number, FdtNode>): { base: number; size: number } | null {
  const map = propCells(node.props.get("msi-map"), node, "msi-map");
  const parent = propCells(node.props.get("msi-parent"), node, "msi-parent");
  const phandle = map.length >= 2 ? map[1] : parent[0];
  if (phandle === undefined) return null;
  const frame = byPhandle.get(phandle);
  if (!frame || !hasString(frame.props.get("compatible"), "arm,gic-v2m-frame")) return null;
  const reg = regOf(frame)[0];
  return reg ? { base: reg.base, size: reg.size } : null;
}

/** The first `pci-host-ecam-generic` node whose ECAM window lies below 4 GiB, or null. */
export function parsePciHost(nodes: readonly FdtNode[], byPhandle: Map<number, FdtNode>): PciHostInfo | null {
  for (const node of nodes) {
    if (!hasString(node.props.get("compatible"), "pci-host-ecam-generic")) continue;
    const ecam = regOf(node)[0];
    if (!ecam) throw new FdtError(`${node.name}: PCI host without reg`);
    if (ecam.base + ecam.size > 0x1_0000_0000) continue; // highmem ECAM: not reachable without LPAE
    const range = propCells(node.props.get("bus-range"), node, "bus-range");
    const busStart = range[0] ?? 0;
    const busEnd = range[1] ?? Math.min(255, busStart + Math.floor(ecam.size / 0x10_0000) - 1);
    const { mask, routes } = interruptMapOf(node, byPhandle);
    return Object.freeze({
      ecam: Object.freeze({ base: ecam.base, size: ecam.size }),
      busStart,
      busEnd,
      windows: Object.freeze(windowsOf(node).map((w) => Object.freeze(w))),
      interruptMask: Object.freeze(mask),
      interruptMap: Object.freeze(routes.map((r) => Object.freeze(r))),
      msiFrame: msiFrameOf(node, byPhandle),
    });
  }
  return null;
}
