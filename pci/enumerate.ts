// Bus enumeration, depth first as Linux and U-Boot do: every device of a bus, every
// function of a multi-function device; a PCI-to-PCI bridge (pcie-root-port too) gets the
// next bus number as its secondary bus, its buses are enumerated, and its subordinate
// bus and its forwarding windows (memory 1 MiB, I/O 4 KiB granular) are set around what
// was placed behind it. BARs are sized with decoding off, assigned, claimed from the
// platform (which opens exactly those ranges to MMIO), then the command register enables
// memory / I/O decoding and bus mastering.

import type { PciBarAccess, PciHostInfo } from "../platform/platform.js";
import { allocatorsFor, assignBars, sizeBars, type Allocators } from "./bars.js";
import { readCapabilities } from "./capabilities.js";
import { Cfg, Command, HEADER_MULTI_FUNCTION, HEADER_TYPE_BRIDGE, NO_VENDOR } from "./config-regs.js";
import type { Ecam, PciAddress } from "./ecam.js";
import { routeIntx } from "./intx.js";
import type { PciBar, PciFunction } from "./pci-function.js";

const MIB = 0x10_0000;
const IO_GRANULE = 0x1000;

interface Walk {
  readonly ecam: Ecam;
  readonly host: PciHostInfo;
  readonly alloc: Allocators;
  readonly out: PciFunction[];
  readonly barAccess: PciBarAccess | null;
  nextBus: number;
}

/**
 * Enumerates every bus below the host bridge; functions in discovery order. `barAccess`:
 * the platform's BAR claims (Platform.pciBars), null where MMIO is not guarded per BAR.
 */
export function enumerate(ecam: Ecam, host: PciHostInfo, barAccess: PciBarAccess | null = null): PciFunction[] {
  const walk: Walk = { ecam, host, alloc: allocatorsFor(host.windows), out: [], barAccess, nextBus: ecam.busStart + 1 };
  scanBus(walk, ecam.busStart, []);
  return walk.out;
}

function scanBus(walk: Walk, bus: number, path: readonly number[]): void {
  for (let device = 0; device < 32; device++) {
    const first: PciAddress = { bus, device, fn: 0 };
    if (walk.ecam.read16(first, Cfg.VendorId) === NO_VENDOR) continue;
    const multi = (walk.ecam.read8(first, Cfg.HeaderType) & HEADER_MULTI_FUNCTION) !== 0;
    for (let fn = 0; fn < (multi ? 8 : 1); fn++) {
      const a: PciAddress = { bus, device, fn };
      if (fn > 0 && walk.ecam.read16(a, Cfg.VendorId) === NO_VENDOR) continue;
      scanFunction(walk, a, [...path, device], multi);
    }
  }
}

function scanFunction(walk: Walk, a: PciAddress, path: readonly number[], multi: boolean): void {
  const { ecam } = walk;
  const headerType = ecam.read8(a, Cfg.HeaderType) & 0x7f;
  const bridge = headerType === HEADER_TYPE_BRIDGE;
  // Decoding off while the BARs are sized and moved (PCI 3.0 §6.2.5.1).
  const command = ecam.read16(a, Cfg.Command);
  ecam.write16(a, Cfg.Command, command & ~(Command.Io | Command.Memory | Command.BusMaster));
  const sized = headerType === 0 || bridge ? sizeBars(ecam, a, bridge ? 2 : 6) : [];
  const assigned = assignBars(ecam, a, sized, walk.alloc);
  const problems = assigned.problems;
  const bars = walk.barAccess ? claimBars(walk.barAccess, ecam, a, assigned.bars, problems) : assigned.bars;
  const { caps, problem } = readCapabilities(ecam, a);
  if (problem !== null) problems.push(problem);
  const pin = ecam.read8(a, Cfg.InterruptPin);
  const irq = routeIntx(walk.host, path, pin);
  if (irq !== null) ecam.write8(a, Cfg.InterruptLine, irq & 0xff); // informational (PCI 3.0 §6.2.4)
  const record: PciFunction & { secondaryBus?: number; subordinateBus?: number } = {
    ...a,
    vendorId: ecam.read16(a, Cfg.VendorId),
    deviceId: ecam.read16(a, Cfg.DeviceId),
    revision: ecam.read8(a, Cfg.Revision),
    classCode: ecam.read32(a, Cfg.Revision) >>> 8,
    headerType,
    multiFunction: multi,
    subsystemVendorId: bridge ? 0 : ecam.read16(a, Cfg.SubsystemVendorId),
    subsystemId: bridge ? 0 : ecam.read16(a, Cfg.SubsystemId),
    bars,
    capabilities: caps,
    interruptPin: pin,
    irq,
    problems,
  };
  walk.out.push(record);
  let enable = Command.BusMaster;
  if (bars.some((b) => b.kind === "io" && b.pciAddress >= 0)) enable |= Command.Io;
  if (bars.some((b) => b.kind !== "io" && b.pciAddress >= 0)) enable |= Command.Memory;
  if (bridge) {
    const [secondary, subordinate] = scanBridge(walk, a, path);
    record.secondaryBus = secondary;
    record.subordinateBus = subordinate;
    enable |= Command.Io | Command.Memory;
  }
  ecam.write16(a, Cfg.Command, (command & ~(Command.Io | Command.Memory)) | enable);
}

/**
 * Claims each assigned BAR from the platform, after the last write to the function's BAR
 * registers (a later one closes the claims). A BAR the platform refuses, or places
 * elsewhere than assignment did, is left unassigned with the reason in `problems`.
 */
function claimBars(access: PciBarAccess, ecam: Ecam, a: PciAddress, bars: readonly PciBar[], problems: string[]): PciBar[] {
  return bars.map((bar) => {
    if (bar.cpuAddress < 0) return bar;
    let cpu: number;
    try {
      cpu = access.claim(ecam.address(a, 0, 4), bar.index);
    } catch (error) {
      problems.push(`BAR${bar.index}: the platform refused it (${(error as Error).message})`);
      return { ...bar, pciAddress: -1, cpuAddress: -1 };
    }
    if (cpu !== bar.cpuAddress) {
      problems.push(`BAR${bar.index}: the platform found it at 0x${cpu.toString(16)}, not 0x${bar.cpuAddress.toString(16)}`);
      return { ...bar, pciAddress: -1, cpuAddress: -1 };
    }
    return bar;
  });
}

/** Numbers the bridge's buses, enumerates them, and opens its windows around what they hold. */
function scanBridge(walk: Walk, a: PciAddress, path: readonly number[]): [number, number] {
  const { ecam, alloc } = walk;
  if (walk.nextBus > ecam.busEnd) return [0, 0]; // out of bus numbers: leave it closed
  const secondary = walk.nextBus++;
  ecam.write8(a, Cfg.PrimaryBus, a.bus);
  ecam.write8(a, Cfg.SecondaryBus, secondary);
  ecam.write8(a, Cfg.SubordinateBus, ecam.busEnd); // everything below, until we know
  alloc.mem?.alignTo(MIB);
  alloc.io?.alignTo(IO_GRANULE);
  const memStart = alloc.mem?.next ?? 0;
  const ioStart = alloc.io?.next ?? 0;
  scanBus(walk, secondary, path);
  alloc.mem?.alignTo(MIB);
  alloc.io?.alignTo(IO_GRANULE);
  const memEnd = alloc.mem?.next ?? 0;
  const ioEnd = alloc.io?.next ?? 0;
  const subordinate = walk.nextBus - 1;
  ecam.write8(a, Cfg.SubordinateBus, subordinate);
  // Memory window [base, limit] in 1 MiB units (bits 31:20); base > limit closes it.
  if (memEnd > memStart) {
    ecam.write16(a, Cfg.MemoryBase, (memStart >>> 16) & 0xfff0);
    ecam.write16(a, Cfg.MemoryLimit, ((memEnd - 1) >>> 16) & 0xfff0);
  } else {
    ecam.write16(a, Cfg.MemoryBase, 0xfff0);
    ecam.write16(a, Cfg.MemoryLimit, 0);
  }
  // No prefetchable window: prefetchable BARs behind it sit in the memory window.
  ecam.write16(a, Cfg.PrefetchBase, 0xfff0);
  ecam.write16(a, Cfg.PrefetchLimit, 0);
  ecam.write32(a, Cfg.PrefetchBaseUpper, 0);
  ecam.write32(a, Cfg.PrefetchLimitUpper, 0);
  // I/O window in 4 KiB units (bits 15:12).
  if (ioEnd > ioStart) {
    ecam.write8(a, Cfg.IoBase, (ioStart >>> 8) & 0xf0);
    ecam.write8(a, Cfg.IoLimit, ((ioEnd - 1) >>> 8) & 0xf0);
  } else {
    ecam.write8(a, Cfg.IoBase, 0xf0);
    ecam.write8(a, Cfg.IoLimit, 0);
  }
  ecam.write16(a, Cfg.IoBaseUpper, 0);
  ecam.write16(a, Cfg.IoLimitUpper, 0);
  return [secondary, subordinate];
}
