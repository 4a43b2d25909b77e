// `pci [--json]`: the functions the PCI layer enumerated, as U-Boot's `pci` lists them:
// bus:dev.fn, vendor and device IDs, class, the BARs as assigned (kind, CPU address,
// size) and the interrupt: MSI-X (table size, on/off) or the INTx line.

import { CapId } from "../../../pci/config-regs.js";
import { formatAddress } from "../../../pci/ecam.js";
import { pciBusOf, type PciBus } from "../../../pci/pci-bus.js";
import type { PciFunction } from "../../../pci/pci-function.js";
import { UsageError, type Command } from "../command.js";
import { hex, table } from "../format.js";

const CLASS_NAMES: Record<number, string> = {
  0x00: "unclassified", 0x01: "storage", 0x02: "network", 0x03: "display", 0x04: "multimedia",
  0x05: "memory", 0x06: "bridge", 0x07: "communication", 0x08: "system", 0x09: "input", 0xff: "other",
};

/** "msix 3 on", "msix 3 off", "intx 36" or "-". */
export function interruptOf(bus: PciBus, fn: PciFunction): string {
  const cap = fn.capabilities.find((c) => c.id === CapId.MsiX);
  if (cap) {
    const control = bus.ecam.read16(fn, cap.offset + 2);
    return `msix ${(control & 0x7ff) + 1} ${control & 0x8000 ? "on" : "off"}`;
  }
  return fn.irq === null ? "-" : `intx ${fn.irq}`;
}

function barsOf(fn: PciFunction): string {
  const size = (n: number) => (n >= 1 << 20 ? `${n >> 20}M` : n >= 1024 ? `${n >> 10}K` : `${n}`);
  return fn.bars.map((b) => `${b.index}:${b.kind}${b.prefetchable ? "p" : ""}@${b.cpuAddress < 0 ? "unassigned" : hex(b.cpuAddress, 8)}/${size(b.size)}`).join(" ") || "-";
}

export interface PciRecord {
  readonly address: string;
  readonly vendor: string;
  readonly device: string;
  readonly class: string;
  readonly bars: { index: number; kind: string; address: string | null; size: number }[];
  readonly interrupt: string;
}

export function pciRecord(bus: PciBus, fn: PciFunction): PciRecord {
  return {
    address: formatAddress(fn),
    vendor: hex(fn.vendorId, 4),
    device: hex(fn.deviceId, 4),
    class: hex(fn.classCode, 6),
    bars: fn.bars.map((b) => ({ index: b.index, kind: b.kind, address: b.cpuAddress < 0 ? null : hex(b.cpuAddress, 8), size: b.size })),
    interrupt: interruptOf(bus, fn),
  };
}

export const pciCommand: Command = {
  name: "pci",
  usage: "pci [--json]",
  summary: "PCI functions: bus:dev.fn, vendor, device, class, BARs, interrupt",
  run(args, io) {
    const json = args[0] === "--json";
    if (args.length > (json ? 1 : 0)) throw new UsageError(`unexpected argument: ${args[json ? 1 : 0]}`);
    const bus = pciBusOf(io.platform);
    if (json) {
      io.print(JSON.stringify(bus === null ? [] : bus.functions().map((fn) => pciRecord(bus, fn))));
      return 0;
    }
    if (bus === null) {
      io.print("no PCI host bridge (the board has none reachable: see boards/qemu-virt-arm/README.md)");
      return 0;
    }
    const rows = bus.functions().map((fn) => [
      formatAddress(fn), hex(fn.vendorId, 4), hex(fn.deviceId, 4), hex(fn.classCode, 6),
      CLASS_NAMES[fn.classCode >>> 16] ?? "?", interruptOf(bus, fn), barsOf(fn),
    ]);
    for (const line of table([["BDF", "VENDOR", "DEVICE", "CLASS", "KIND", "IRQ", "BARS"], ...rows])) io.print(line);
    for (const fn of bus.functions()) for (const p of fn.problems) io.print(`${formatAddress(fn)}: ${p}`);
    return 0;
  },
};
