// The host model's PCIe host bridge, as QEMU's `virt` with highmem=off has it: ECAM at
// 0x3f000000 (buses 0-15), the I/O window at CPU 0x3eff0000 (PCI 0), the 32-bit memory
// window 0x10000000-0x3efeffff, INTA-INTD swizzled over INTID 35-38, and a GICv2m frame
// at 0x08020000 (64 SPIs from INTID 80). Functions live behind ECAM; BAR accesses are
// routed to the function whose decoded BAR holds the address, once the driver has claimed
// that BAR (Platform.pciBars, as the bare-metal natives require); a configuration write
// to a function's BAR registers closes its claims.

import type { PciHostInfo, PciInterruptRoute } from "../../platform.js";
import type { MmioBus, MmioHandler, MmioWidth } from "../mmio-bus.js";
import type { HostInterrupts } from "../interrupts.js";
import { COMMAND_IO, COMMAND_MEMORY, PciConfigSpace } from "./pci-config-space.js";

export const PCI_ECAM_BASE = 0x3f00_0000;
export const PCI_IO_CPU_BASE = 0x3eff_0000;
export const PCI_MEM_BASE = 0x1000_0000;
export const PCI_MEM_SIZE = 0x2eff_0000;
export const V2M_BASE = 0x0802_0000;
export const V2M_FIRST_INTID = 80;
export const V2M_SPIS = 64;
/** GICv2m registers (ARM GICv2m architecture: MSI_TYPER, MSI_SETSPI_NS). */
export const V2M_MSI_TYPER = 0x008;
export const V2M_MSI_SETSPI = 0x040;

/** A function behind the bridge: its config space and what its BARs decode. */
export interface PciFunctionModel {
  readonly config: PciConfigSpace;
  /** An access to BAR `bar` at `offset` bytes into it. */
  barRead(bar: number, offset: number, width: MmioWidth): number;
  barWrite(bar: number, offset: number, width: MmioWidth, value: number): void;
}

function interruptMap(): PciInterruptRoute[] {
  const routes: PciInterruptRoute[] = [];
  for (let device = 0; device < 4; device++) {
    for (let pin = 1; pin <= 4; pin++) routes.push({ device, pin, irq: 35 + ((device + pin - 1) % 4) });
  }
  return routes;
}

export const HOST_PCI_INFO: PciHostInfo = {
  ecam: { base: PCI_ECAM_BASE, size: 0x100_0000 },
  busStart: 0,
  busEnd: 15,
  windows: [
    { kind: "io", prefetchable: false, pciBase: 0, cpuBase: PCI_IO_CPU_BASE, size: 0x1_0000 },
    { kind: "mem32", prefetchable: false, pciBase: PCI_MEM_BASE, cpuBase: PCI_MEM_BASE, size: PCI_MEM_SIZE },
  ],
  interruptMask: { device: 3, pin: 7 },
  interruptMap: interruptMap(),
  msiFrame: { base: V2M_BASE, size: 0x1000 },
};

export class PciHostModel {
  readonly #functions = new Map<number, PciFunctionModel>(); // key: bus << 8 | dev << 3 | fn
  readonly #report: (rule: string, message: string) => void;

  constructor(bus: MmioBus, interrupts: HostInterrupts, report: (rule: string, message: string) => void) {
    this.#report = report;
    // 00.0: the host bridge itself (1b36:0008, class 0x060000), as on QEMU.
    const bridge = new PciConfigSpace({ vendorId: 0x1b36, deviceId: 0x0008, revision: 0, classCode: 0x060000, subsystemVendorId: 0x1af4, subsystemId: 0x1100, interruptPin: 0 }, report);
    this.add(0, 0, 0, { config: bridge, barRead: () => 0, barWrite: () => {} });
    bus.map(PCI_ECAM_BASE, 0x100_0000, this.#ecam());
    bus.map(PCI_MEM_BASE, PCI_MEM_SIZE, this.#window("mem"));
    bus.map(PCI_IO_CPU_BASE, 0x1_0000, this.#window("io"));
    bus.map(V2M_BASE, 0x1000, {
      read: (offset) => (offset === V2M_MSI_TYPER ? (V2M_FIRST_INTID << 16) | V2M_SPIS : 0),
      write: (offset, _width, value) => {
        if (offset !== V2M_MSI_SETSPI) return;
        if (value >= V2M_FIRST_INTID && value < V2M_FIRST_INTID + V2M_SPIS) interrupts.raise(value);
        else report("msi-bad-spi", `MSI message data ${value} names no SPI of the v2m frame`);
      },
    });
  }

  add(bus: number, device: number, fn: number, model: PciFunctionModel): void {
    this.#functions.set((bus << 8) | (device << 3) | fn, model);
  }

  /**
   * A PCI-to-PCI bridge (as QEMU's pcie-root-port, 1b36:000c) at 00.`device`, with `child`
   * at device 0 of whatever secondary bus the driver gives it: configuration accesses to
   * that bus reach the child only once the bridge's secondary bus number says so.
   */
  addBridge(device: number, child: PciFunctionModel): void {
    const bridge = new PciConfigSpace({ vendorId: 0x1b36, deviceId: 0x000c, revision: 0, classCode: 0x060400, subsystemVendorId: 0, subsystemId: 0, interruptPin: 1 }, this.#report);
    bridge.bytes[0x0e] = 0x01; // header type 1
    bridge.barsEnd = 0x18; // two BARs, then the bus numbers and windows
    bridge.allowWrite(0x18, 3); // primary, secondary, subordinate bus
    bridge.allowWrite(0x1c, 2, 0xf0); // I/O base / limit
    bridge.allowWrite(0x20, 8, 0xff); // memory and prefetchable base / limit
    bridge.allowWrite(0x28, 12); // prefetchable upper halves, I/O upper halves
    bridge.allowWrite(0x3e, 2); // bridge control
    this.add(0, device, 0, { config: bridge, barRead: () => 0, barWrite: () => {} });
    this.#bridges.push({ config: bridge, child });
  }

  readonly #bridges: { config: PciConfigSpace; child: PciFunctionModel }[] = [];
  /** The BARs claimed, per function. */
  readonly #claims = new Map<PciFunctionModel, Set<number>>();

  /** Platform.pciBars.claim: opens BAR `index` of the function at `configAddress` (ECAM). */
  claim(configAddress: number, index: number): number {
    const offset = configAddress - PCI_ECAM_BASE;
    const hex = (n: number) => `0x${n.toString(16)}`;
    if (!Number.isInteger(offset) || offset < 0 || offset >= 0x100_0000 || offset % 0x1000 !== 0) {
      throw new RangeError(`pci claim: ${hex(configAddress)} is not the start of a function's configuration space in ECAM`);
    }
    const fn = this.#functionAt(offset);
    if (!fn) throw new RangeError(`pci claim: no function at ${hex(configAddress)}`);
    const spec = Number.isInteger(index) && index >= 0 && index < 6 ? fn.config.bars[index] : undefined;
    if (!spec) throw new RangeError(`pci claim: the function has no BAR${index}`);
    const base = fn.config.barAddress(index);
    if (base === 0) throw new RangeError(`pci claim: BAR${index} is not assigned (address 0)`);
    const [start, size] = spec.kind === "io" ? [0, 0x1_0000] : [PCI_MEM_BASE, PCI_MEM_SIZE];
    if (base < start || base + spec.size > start + size) throw new RangeError(`pci claim: BAR${index} at PCI ${hex(base)} is outside the bridge's window`);
    let set = this.#claims.get(fn);
    if (!set) this.#claims.set(fn, (set = new Set()));
    set.add(index);
    return spec.kind === "io" ? PCI_IO_CPU_BASE + base : base;
  }

  /** The function at ECAM offset `offset`: bus 0 directly, other buses through the bridges. */
  #functionAt(offset: number): PciFunctionModel | undefined {
    const bus = offset >>> 20;
    if (bus === 0) return this.#functions.get(offset >>> 12);
    if (((offset >>> 12) & 0xff) !== 0) return undefined; // behind a root port: device 0 only
    return this.#bridges.find((b) => b.config.bytes[0x19] === bus)?.child;
  }

  #all(): PciFunctionModel[] {
    return [...this.#functions.values(), ...this.#bridges.map((b) => b.child)];
  }

  /** The next free device number on bus 0 (QEMU fills 00.1, 00.2, ...). */
  nextDevice(): number {
    for (let d = 1; d < 32; d++) if (!this.#functions.has(d << 3)) return d;
    throw new RangeError("bus 0 is full");
  }

  #ecam(): MmioHandler {
    const at = (offset: number) => ({ fn: this.#functionAt(offset), reg: offset & 0xfff });
    return {
      read: (offset, width) => {
        const { fn, reg } = at(offset);
        return fn ? fn.config.read(reg, width) : 0xffff_ffff >>> (32 - 8 * width); // no function: all ones
      },
      write: (offset, width, value) => {
        const { fn, reg } = at(offset);
        if (fn && reg + width > 0x10 && reg < fn.config.barsEnd) this.#claims.delete(fn); // a BAR may move: claim it again
        fn?.config.write(reg, width, value);
      },
    };
  }

  /** The function and BAR decoding `address` in the I/O or memory space, if any. */
  #decode(space: "io" | "mem", address: number): { fn: PciFunctionModel; bar: number; offset: number } | null {
    for (const fn of this.#all()) {
      const decoding = space === "io" ? COMMAND_IO : COMMAND_MEMORY;
      for (let bar = 0; bar < 6; bar++) {
        const spec = fn.config.bars[bar];
        if (!spec || (spec.kind === "io") !== (space === "io")) continue;
        const base = fn.config.barAddress(bar);
        if (base === 0 || address < base || address >= base + spec.size) continue;
        if (!this.#claims.get(fn)?.has(bar)) {
          this.#report("pci-bar-unclaimed", `access at 0x${address.toString(16)} in BAR${bar}, which the driver has not claimed since it was last written (Platform.pciBars.claim)`);
          return null;
        }
        if ((fn.config.command & decoding) === 0) {
          this.#report("pci-bar-decode-off", `access at 0x${address.toString(16)} in BAR${bar} while the command register's ${space === "io" ? "I/O" : "memory"} decode is off`);
          return null;
        }
        return { fn, bar, offset: address - base };
      }
    }
    return null;
  }

  #window(space: "io" | "mem"): MmioHandler {
    const base = space === "io" ? 0 : PCI_MEM_BASE; // PCI address of the window's first byte
    return {
      read: (offset, width) => {
        const hit = this.#decode(space, base + offset);
        return hit ? hit.fn.barRead(hit.bar, hit.offset, width) : 0xffff_ffff >>> (32 - 8 * width);
      },
      write: (offset, width, value) => {
        const hit = this.#decode(space, base + offset);
        hit?.fn.barWrite(hit.bar, hit.offset, width, value);
      },
    };
  }
}
