// `devices [--json]`: every transport (virtio-mmio window, virtio PCI function) that holds
// a device, from bus.devices(): slot, base, IRQ (line, INTx or MSI-X vectors), the bus
// ("mmio", or "pci" with the function's address), transport version (2 modern, 1 legacy),
// device ID and type, vendor, status reached and the
// negotiated features (hex, then the bit names: apps/shell/feature-names.ts, from the
// core's transport bits and each driver's device bits).
// `--json` prints one JSON array on one line (keys: slot, base, irq,
// version, deviceId, type, vendor, status, features, transport, mode, pci, interrupt;
// hex values as strings).

import type { DeviceInfo } from "../../../drivers/virtio/device-info.js";
import { UsageError, type Command } from "../command.js";
import { featureNamesFor } from "../feature-names.js";
import { hex, table } from "../format.js";

/** One device as `devices --json` prints it. */
export interface DeviceRecord {
  readonly slot: number;
  /** "0x0a003e00" */
  readonly base: string;
  readonly irq: number;
  readonly version: number;
  readonly deviceId: number;
  readonly type: string;
  /** "0x554d4551" */
  readonly vendor: string;
  readonly status: string;
  /** The 64 negotiated feature bits: "0x0000000130000000". */
  readonly features: string;
  /** "mmio" or "pci". */
  readonly transport: string;
  /** "mmio v1", "mmio v2", "pci modern", "pci legacy". */
  readonly mode: string;
  /** PCI address "00:01.0", null for mmio. */
  readonly pci: string | null;
  /** "line 79", "intx 36", "msix 3 (80-82)". */
  readonly interrupt: string;
}

export function deviceRecord(info: DeviceInfo): DeviceRecord {
  return {
    slot: info.slot,
    base: hex(info.base, 8),
    irq: info.irq,
    version: info.version,
    deviceId: info.deviceId,
    type: info.type,
    vendor: hex(info.vendorId, 8),
    status: info.status,
    features: hex(info.features, 16),
    transport: info.transport ?? "mmio",
    mode: info.mode ?? `mmio v${info.version}`,
    pci: info.pciAddress ?? null,
    interrupt: info.interrupt ?? `line ${info.irq}`,
  };
}

const HEADER = ["SLOT", "BASE", "IRQ", "BUS", "VER", "ID", "TYPE", "VENDOR", "STATUS", "DRIVER", "FEATURES"];

/** The table's lines; a device's driver error follows its row. */
export function deviceTable(infos: readonly DeviceInfo[]): string[] {
  const rows = infos.map((info) => {
    const r = deviceRecord(info);
    const names = featureNamesFor(info.deviceId, info.features).join(" ");
    const features = names === "" ? r.features : `${r.features} ${names}`;
    const id = String(r.deviceId);
    const irq = r.transport === "mmio" ? String(r.irq) : r.interrupt;
    const bus = r.pci === null ? r.transport : `${r.transport} ${r.pci}`;
    return [String(r.slot), r.base, irq, bus, String(r.version), id, r.type, r.vendor, r.status, info.driver ?? "-", features];
  });
  const lines = table([HEADER, ...rows]);
  const out = [lines[0]!];
  infos.forEach((info, i) => {
    out.push(lines[i + 1]!);
    if (info.error !== null) out.push(`      error: ${info.error}`);
  });
  return out;
}

export const devicesCommand: Command = {
  name: "devices",
  usage: "devices [--json]",
  summary: "virtio devices found: slot, address, IRQ, version, type, status, features",
  run(args, io) {
    const json = args[0] === "--json";
    if (args.length > (json ? 1 : 0)) throw new UsageError(`unexpected argument: ${args[json ? 1 : 0]}`);
    const infos = io.bus === null ? [] : [...io.bus.devices()].sort((a, b) => a.slot - b.slot);
    if (json) {
      io.print(JSON.stringify(infos.map(deviceRecord)));
      return 0;
    }
    if (io.bus === null) io.print("no virtio bus");
    else if (infos.length === 0) io.print("no virtio devices");
    else for (const line of deviceTable(infos)) io.print(line);
    for (const p of io.bus?.problems?.() ?? []) io.print(`slot ${p.slot} at ${hex(p.base, 8)}: ${p.error.message}`);
    return 0;
  },
};
