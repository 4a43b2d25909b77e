// The platform interface: the only thing the layers above (transports, rings, device
// drivers, apps) may use to reach the machine. Two implementations exist:
//   platform/xs/    bare metal on QEMU's arm `virt` board (C natives + TypeScript)
//   platform/host/  the Node host model (simulated memory, MMIO bus and virtio devices)
// Nothing in this file may depend on Node or on XS.

import type { PagePool } from "./page-pool.js";

/**
 * Memory-mapped I/O. Every access states its width; values are little-endian as the
 * virtio-mmio registers are (VIRTIO 1.2 §4.2.2). Addresses are physical.
 */
export interface Mmio {
  read8(addr: number): number;
  read16(addr: number): number;
  read32(addr: number): number;
  write8(addr: number, value: number): void;
  write16(addr: number, value: number): void;
  write32(addr: number, value: number): void;
}

/**
 * Memory barriers, called where the spec requires ordering between the driver's and the
 * device's view of shared memory (VIRTIO 1.2 §2.7.13.3.1, §2.7.13.4): before publishing
 * avail idx (wmb), before notifying (mb), after reading used idx (rmb).
 * On ARMv7 these are `dmb ish` / `dmb ishst` / `dsb`; in the host model they order the
 * model's view and are counted.
 */
export interface Barriers {
  /** Full barrier: all earlier loads and stores complete before any later one. */
  mb(): void;
  /** Read barrier: earlier loads complete before later loads. */
  rmb(): void;
  /** Write barrier: earlier stores are visible before later stores. */
  wmb(): void;
}

/**
 * A physically contiguous region that devices can reach by DMA: fixed address, never
 * moved by the garbage collector (on XS it is a host buffer, not an ArrayBuffer).
 */
export interface DmaRegion {
  /** Physical (bus) address of `bytes[0]`, as the device sees it. */
  readonly phys: number;
  /** The CPU's view of the region. */
  readonly bytes: Uint8Array;
}

/** A block of DMA memory handed out by a DmaAllocator. */
export interface DmaBuffer {
  /** Physical (bus) address of the first byte. */
  readonly phys: number;
  /** Size in bytes, as asked for. */
  readonly size: number;
  /** CPU view of exactly this block. */
  readonly bytes: Uint8Array;
  /** The same block for explicit-width little-endian access (pass `true` for LE). */
  readonly view: DataView;
}

export interface DmaStats {
  readonly total: number;
  readonly used: number;
  readonly peak: number;
  readonly allocations: number;
}

/**
 * Allocates DMA memory: aligned, physically contiguous, at a fixed address.
 * `alloc` throws a DmaExhaustedError (dma-pool.ts) with the sizes when it cannot serve.
 */
export interface DmaAllocator {
  alloc(size: number, align?: number): DmaBuffer;
  free(buffer: DmaBuffer): void;
  stats(): DmaStats;
  /**
   * True when the whole byte range [phys, phys + len) lies inside the allocator's region,
   * i.e. is memory the driver owns and may hand a device (VIRTIO 1.2 §2.7.4). False for an
   * empty or negative length and for anything that is not a safe integer address. It says
   * nothing about whether the range is currently allocated.
   */
  contains(phys: number, len: number): boolean;
}

/** Called from the event loop (never in interrupt context) when `line` fired. */
export type InterruptHandler = (line: number) => void;

/**
 * Interrupt lines, numbered as the interrupt controller numbers them (GIC INTID on the
 * arm `virt` board: SPI n is INTID 32 + n).
 *
 * When a line fires, the platform masks it and queues it; the event loop then calls the
 * attached handler and, when the handler returns (or throws), calls `eoi(line)`, which
 * ends the interrupt and unmasks the line. Handlers therefore never run re-entrantly.
 */
export interface Interrupts {
  attach(line: number, handler: InterruptHandler): void;
  detach(line: number): void;
  enable(line: number): void;
  disable(line: number): void;
  /** End of interrupt: the line may fire again. Called by the platform's dispatcher. */
  eoi(line: number): void;
}

/** A monotonic clock. */
export interface Clock {
  /** Milliseconds since boot, monotonic, fractional where the counter allows. */
  now(): number;
}

export type TimerId = number;
export type TimerCallback = (id: TimerId) => void;

/** Timers in the shape of Moddable's `Timer` (set, repeat, clear). */
export interface Timers {
  /** Calls `callback` once after `delay` ms, then every `repeat` ms if given. */
  set(callback: TimerCallback, delay?: number, repeat?: number): TimerId;
  /** Calls `callback` every `interval` ms. */
  repeat(callback: TimerCallback, interval: number): TimerId;
  /** Cancels a timer; clearing an unknown or fired id does nothing. */
  clear(id: TimerId): void;
}

/** The board's text console (the PL011 UART on `virt`). */
export interface ConsolePort {
  /** Writes bytes or text (UTF-8) to the console. */
  write(data: string | Uint8Array): void;
  /** Receives bytes typed on the console, from the event loop. */
  onReceive: ((data: Uint8Array) => void) | null;
}

/** One virtio-mmio transport window found in the device tree. */
export interface VirtioMmioWindow {
  /** Index of the window in address order (0 = lowest address), as QEMU numbers them. */
  readonly slot: number;
  readonly base: number;
  readonly size: number;
  /** Interrupt line (GIC INTID on `virt`). */
  readonly irq: number;
}

/** One address window of a PCI host bridge (its `ranges`): CPU address = PCI address + (cpuBase - pciBase). */
export interface PciWindow {
  /** "io" (I/O space), "mem32" or "mem64" (memory space, 32/64-bit PCI addresses). */
  readonly kind: "io" | "mem32" | "mem64";
  readonly prefetchable: boolean;
  readonly pciBase: number;
  readonly cpuBase: number;
  readonly size: number;
}

/** One `interrupt-map` entry: a (device, pin) pattern under `interrupt-map-mask` and its line. */
export interface PciInterruptRoute {
  /** Device number bits of the child unit address (phys.hi & mask), as (phys.hi >> 11) & 0x1f. */
  readonly device: number;
  /** Interrupt pin 1-4 (INTA-INTD). */
  readonly pin: number;
  /** GIC INTID the pin reaches. */
  readonly irq: number;
}

/** The PCIe host bridge (`pci-host-ecam-generic`) as the device tree describes it. */
export interface PciHostInfo {
  /** The ECAM window (4 KiB of configuration space per function, 1 MiB per bus). */
  readonly ecam: { readonly base: number; readonly size: number };
  readonly busStart: number;
  readonly busEnd: number;
  readonly windows: readonly PciWindow[];
  /** `interrupt-map-mask` on the device bits (phys.hi >> 11) and on the pin. */
  readonly interruptMask: { readonly device: number; readonly pin: number };
  readonly interruptMap: readonly PciInterruptRoute[];
  /** The MSI frame (`arm,gic-v2m-frame`) the bridge's `msi-map`/`msi-parent` names, if any. */
  readonly msiFrame: { readonly base: number; readonly size: number } | null;
}

/** What the board's device tree says, parsed at boot; nothing of it is hard-coded. */
export interface BoardInfo {
  readonly model: string;
  readonly ram: { readonly base: number; readonly size: number };
  readonly virtioMmio: readonly VirtioMmioWindow[];
  /** The PCIe host bridge, if the board has one reachable from 32-bit addresses. */
  readonly pci?: PciHostInfo | null;
}

/** Maps and unmaps hot-plugged RAM (Platform.memoryHotplug). */
export interface MemoryHotplug {
  /**
   * Maps [phys, phys + size) as ordinary RAM and returns its view. Refuses (throws a
   * RangeError) a range that is not page-aligned, overlaps RAM, the DMA pool or any device
   * window of the board, or lies beyond what the CPU can address.
   */
  map(phys: number, size: number): DmaRegion;
  /** Takes a mapping away: any later access faults (unplugged memory is inaccessible). */
  unmap(phys: number, size: number): void;
}

/**
 * Access to the registers behind PCI BARs (Platform.pciBars). A platform that guards MMIO
 * keeps every BAR closed until the PCI layer, having assigned it, claims it: the platform
 * reads and sizes the BAR itself from the function's configuration space and opens
 * exactly that range; a later configuration write to a BAR register of the function
 * closes its claims again. The rest of the bridge's windows stays closed.
 */
export interface PciBarAccess {
  /**
   * Opens BAR `index` of the function whose 4 KiB of ECAM start at `configAddress`, at the
   * address and size the BAR decodes now; returns its CPU address. Throws a RangeError for
   * a missing function or BAR, an empty or unassigned BAR, or one outside the windows.
   */
  claim(configAddress: number, index: number): number;
}

/** Heap and slot use of the JavaScript engine, where the platform can tell. */
export interface EngineStats {
  readonly [key: string]: number;
}

export interface Platform {
  /** e.g. "xs-qemu-virt-arm" or "node-host". */
  readonly name: string;
  readonly mmio: Mmio;
  readonly barriers: Barriers;
  /** DMA memory for rings and buffers (a DmaPool over the platform's DmaRegion). */
  readonly dma: DmaAllocator;
  readonly irq: Interrupts;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly console: ConsolePort;
  readonly board: BoardInfo;
  /**
   * RAM no one else uses, in 4 KiB pages with physical addresses (platform/page-pool.ts),
   * for memory devices (virtio-balloon lends pages of it to the host) and large app
   * buffers. Absent on a platform that has none to spare.
   */
  readonly pages?: PagePool;
  /**
   * Memory that appears at run time (virtio-mem plugs blocks, VIRTIO 1.2 §5.15): maps a
   * range as RAM and gives its CPU view, or takes the mapping away again. Absent where the
   * platform cannot add memory.
   */
  readonly memoryHotplug?: MemoryHotplug;
  /** PCI BAR claims; absent where MMIO to the PCI windows is not guarded per BAR. */
  readonly pciBars?: PciBarAccess;
  /** Engine memory statistics for the `mem` command. */
  engineStats(): EngineStats;
  /** Powers the machine off (PSCI SYSTEM_OFF on `virt`); in Node, ends the model. */
  powerOff(): void;
}
