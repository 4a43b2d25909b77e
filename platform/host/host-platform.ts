// The host model: a whole simulated `virt`-like machine in Node. Its `platform`
// implements platform/platform.ts completely (MMIO through the bus, counted barriers,
// a DmaPool over a region of simulated RAM, the interrupt controller, clock, timers,
// console, board info), and `attach()` puts device models behind virtio-mmio windows.

import { performance } from "node:perf_hooks";
import type { Barriers, BoardInfo, EngineStats, Platform, VirtioMmioWindow } from "../platform.js";
import { DmaPool } from "../dma-pool.js";
import { PAGE_SIZE, PagePool } from "../page-pool.js";
import { HostConsole } from "./console.js";
import type { DeviceModel } from "./device-model.js";
import { EmptyMmioWindow } from "./empty-window.js";
import { HostModelUsageError, ViolationsError } from "./errors.js";
import { HostInterrupts } from "./interrupts.js";
import { DEFAULT_RAM_BASE, DEFAULT_RAM_SIZE, PhysicalMemory } from "./memory.js";
import { MmioBus } from "./mmio-bus.js";
import type { MmioDeviceOptions } from "./mmio-device-options.js";
import { HostScheduler } from "./scheduler.js";
import { HostTimers } from "./timers.js";
import { MmioDeviceModel } from "./virtio-mmio-device.js";
import { MMIO_WINDOW_SIZE } from "./virtio-constants.js";
import { ViolationLog, type Violation } from "./violations.js";
import { HOST_PCI_INFO, PciHostModel } from "./pci/pci-host-model.js";
import { VirtioPciDeviceModel, type VirtioPciOptions } from "./pci/virtio-pci-device.js";

export interface HostModelOptions {
  /** RAM base (default 0x40000000, as on `virt`). */
  readonly ramBase?: number;
  /** RAM size in bytes (default 16 MiB). */
  readonly ramSize?: number;
  /** Size of the DMA region at the top of RAM (default 4 MiB). */
  readonly dmaSize?: number;
  /** Size of the page pool just below the DMA region (default 4 MiB, or what RAM leaves). */
  readonly pagePoolSize?: number;
  /** Room for hot-plugged memory (virtio-mem) right after RAM, in bytes (default 0: none).
   * It is simulated memory the board does not report as RAM; platform.memoryHotplug maps it. */
  readonly hotplugSize?: number;
  /** Number of virtio-mmio windows (default 32, as on `virt`). */
  readonly slots?: number;
  /** Version the empty windows answer (default 2). */
  readonly emptyVersion?: 1 | 2;
  /** Called by platform.powerOff(). */
  readonly onPowerOff?: () => void;
  /** Give the board virt's PCIe host bridge (ECAM, windows, INTx map, GICv2m frame); default false. */
  readonly pci?: boolean;
}

/** Where attachPci puts a function: bus 0, the next free device number unless told. */
export interface PciPlacement extends VirtioPciOptions {
  readonly device?: number;
  /** Behind a PCI-to-PCI bridge (a pcie-root-port at 00.`device`), at device 0 of its secondary bus. */
  readonly behindBridge?: boolean;
}

export const VIRTIO_MMIO_BASE = 0x0a00_0000;
export const VIRTIO_MMIO_FIRST_IRQ = 48;

export interface BarrierCounts {
  mb: number;
  rmb: number;
  wmb: number;
}

export class HostModel {
  readonly platform: Platform;
  readonly memory: PhysicalMemory;
  readonly bus: MmioBus;
  readonly interrupts: HostInterrupts;
  readonly console: HostConsole;
  readonly timers: HostTimers;
  readonly dma: DmaPool;
  readonly pages: PagePool;
  /** Where hot-plugged memory can appear (virtio-mem's region goes here), and what is mapped. */
  readonly hotplug: { readonly base: number; readonly size: number };
  readonly hotplugMapped = new Map<number, number>();
  readonly board: BoardInfo;
  readonly barrierCounts: BarrierCounts = { mb: 0, rmb: 0, wmb: 0 };
  /** Exceptions that escaped an interrupt handler, a timer callback or device work. */
  readonly escapedErrors: unknown[] = [];
  poweredOff = false;

  readonly #log = new ViolationLog();
  readonly #scheduler = new HostScheduler();
  readonly #devices = new Map<number, MmioDeviceModel>();
  readonly #pci: PciHostModel | null = null;
  readonly #pciDevices: VirtioPciDeviceModel[] = [];

  constructor(options: HostModelOptions = {}) {
    const ramBase = options.ramBase ?? DEFAULT_RAM_BASE;
    const ramSize = options.ramSize ?? DEFAULT_RAM_SIZE;
    const dmaSize = options.dmaSize ?? Math.min(4 * 1024 * 1024, ramSize);
    if (dmaSize > ramSize || dmaSize <= 0) throw new HostModelUsageError(`DMA region of ${dmaSize} bytes does not fit RAM of ${ramSize}`);
    const hotplugSize = options.hotplugSize ?? 0;
    if (hotplugSize < 0 || hotplugSize % (1 << 20) !== 0) throw new HostModelUsageError(`hotplug room of ${hotplugSize} bytes: whole MiB`);
    this.memory = new PhysicalMemory(ramBase, ramSize + hotplugSize);
    this.hotplug = { base: ramBase + ramSize, size: hotplugSize };
    this.dma = new DmaPool(this.memory.region(ramBase + ramSize - dmaSize, dmaSize));
    const room = Math.max(0, Math.floor((ramSize - dmaSize) / 2 / PAGE_SIZE) * PAGE_SIZE);
    const poolSize = options.pagePoolSize ?? Math.min(4 * 1024 * 1024, room);
    if (poolSize < 0 || poolSize % PAGE_SIZE !== 0 || poolSize > ramSize - dmaSize) {
      throw new HostModelUsageError(`page pool of ${poolSize} bytes: whole 4 KiB pages below the DMA region of ${dmaSize} (RAM ${ramSize})`);
    }
    this.pages = new PagePool(this.memory.region(ramBase + ramSize - dmaSize - poolSize, poolSize));
    this.bus = new MmioBus();
    this.#scheduler.onError = (e) => this.#escaped(-1, "model-error", e);
    this.interrupts = new HostInterrupts(this.#scheduler);
    this.interrupts.onHandlerError = (line, e) => this.#escaped(line, `interrupt handler of line ${line} threw`, e);
    this.console = new HostConsole(this.#scheduler);
    this.timers = new HostTimers();
    this.timers.onError = (e) => this.#escaped(-1, "timer callback threw", e);
    const slots = options.slots ?? 32;
    const windows: VirtioMmioWindow[] = [];
    for (let slot = 0; slot < slots; slot++) {
      const base = VIRTIO_MMIO_BASE + slot * MMIO_WINDOW_SIZE;
      windows.push({ slot, base, size: MMIO_WINDOW_SIZE, irq: VIRTIO_MMIO_FIRST_IRQ + slot });
      this.bus.map(base, MMIO_WINDOW_SIZE, new EmptyMmioWindow(options.emptyVersion ?? 2));
    }
    this.board = { model: "linux,dummy-virt (host model)", ram: { base: ramBase, size: ramSize }, virtioMmio: windows, pci: options.pci ? HOST_PCI_INFO : null };
    if (options.pci) this.#pci = new PciHostModel(this.bus, this.interrupts, (rule, message) => this.#log.record(-1, rule, `pci host: ${message}`));
    this.platform = this.#makePlatform(options.onPowerOff);
  }

  #makePlatform(onPowerOff?: () => void): Platform {
    const counts = this.barrierCounts;
    const barriers: Barriers = {
      mb: () => void counts.mb++,
      rmb: () => void counts.rmb++,
      wmb: () => void counts.wmb++,
    };
    const start = performance.now();
    return {
      name: "node-host",
      mmio: this.bus,
      barriers,
      dma: this.dma,
      pages: this.pages,
      memoryHotplug: {
        map: (phys, size) => {
          const { base, size: room } = this.hotplug;
          if (!Number.isSafeInteger(phys) || !Number.isSafeInteger(size) || size <= 0 || phys % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 ||
            phys < base || phys + size > base + room) {
            throw new RangeError(`memory hotplug: [0x${phys.toString(16)}, +${size}) is not inside the hotplug room [0x${base.toString(16)}, +${room})`);
          }
          this.hotplugMapped.set(phys, size);
          return this.memory.region(phys, size);
        },
        unmap: (phys, size) => {
          if (this.hotplugMapped.get(phys) !== size) throw new RangeError(`memory hotplug: nothing mapped at 0x${phys.toString(16)} of ${size} bytes`);
          this.hotplugMapped.delete(phys);
        },
      },
      irq: this.interrupts,
      clock: { now: () => performance.now() - start },
      timers: this.timers,
      console: this.console,
      board: this.board,
      ...(this.#pci ? { pciBars: { claim: (configAddress: number, index: number) => this.#pci!.claim(configAddress, index) } } : {}),
      engineStats: (): EngineStats => {
        const m = process.memoryUsage();
        return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers };
      },
      powerOff: () => {
        this.poweredOff = true;
        this.timers.clearAll();
        onPowerOff?.();
      },
    };
  }

  /** Puts `device` behind the virtio-mmio window `slot` (0..31). */
  attach(slot: number, device: DeviceModel, options: MmioDeviceOptions): MmioDeviceModel {
    const window = this.board.virtioMmio[slot];
    if (!window) throw new HostModelUsageError(`no virtio-mmio slot ${slot} (the board has ${this.board.virtioMmio.length})`);
    if (this.#devices.has(slot)) throw new HostModelUsageError(`slot ${slot} already holds a device`);
    if (options.version !== 1 && options.version !== 2) throw new HostModelUsageError(`virtio-mmio version ${String(options.version)}: only 1 and 2 exist`);
    const model = new MmioDeviceModel(device, options, {
      slot,
      base: window.base,
      irq: window.irq,
      memory: this.memory,
      scheduler: this.#scheduler,
      violations: this.#log,
      raiseLine: () => this.interrupts.raise(window.irq),
      writeBarriers: () => this.barrierCounts.wmb + this.barrierCounts.mb,
    });
    this.bus.remap(window.base, model);
    this.#devices.set(slot, model);
    return model;
  }

  /**
   * Puts `device` behind a virtio-pci function on bus 0 (00.1, 00.2, ... as QEMU fills
   * them). Its violations are recorded under slot 32 + n (the n-th PCI device), the slot
   * the PCI transport provider gives it.
   */
  attachPci(device: DeviceModel, options: PciPlacement = {}): VirtioPciDeviceModel {
    const host = this.#pci;
    if (!host) throw new HostModelUsageError("attachPci: create the model with { pci: true }");
    const number = options.device ?? host.nextDevice();
    // INTA of device `number` through virt's interrupt-map (behind a bridge: INTA of device 0,
    // swizzled by the bridge's device number, is the same line).
    const intx = 35 + (number % 4);
    const slot = this.board.virtioMmio.length + this.#pciDevices.length;
    const model = new VirtioPciDeviceModel(device, options, {
      slot,
      irq: intx,
      memory: this.memory,
      scheduler: this.#scheduler,
      violations: this.#log,
      raiseLine: () => this.interrupts.raise(intx),
      writeBarriers: () => this.barrierCounts.wmb + this.barrierCounts.mb,
      sendMessage: (address, data) => {
        try {
          this.bus.write32(address, data);
        } catch (error) {
          this.#log.record(slot, "msix-message-address", `${device.name}: MSI-X message to 0x${address.toString(16)} reached no device (${(error as Error).message})`);
        }
      },
    });
    if (options.behindBridge) host.addBridge(number, model);
    else host.add(0, number, 0, model);
    this.#pciDevices.push(model);
    return model;
  }

  /** The n-th PCI device attached. */
  pciDevice(n: number): VirtioPciDeviceModel | undefined {
    return this.#pciDevices[n];
  }

  /** The device model at `slot`, if any. */
  device(slot: number): MmioDeviceModel | undefined {
    return this.#devices.get(slot);
  }

  /** Every violation recorded so far, in order. */
  get violations(): readonly Violation[] {
    return this.#log.entries;
  }

  /** Rule ids of the violations (of one slot, if given), for compact assertions. */
  violationRules(slot?: number): string[] {
    return this.#log.rules(slot);
  }

  clearViolations(): void {
    this.#log.clear();
  }

  /** Throws a ViolationsError listing every violation (and escaped exception), if any. */
  assertNoViolations(): void {
    if (this.#log.entries.length > 0) throw new ViolationsError(this.#log.entries);
  }

  /** Resolves when no device work and no interrupt delivery is pending. */
  settle(): Promise<void> {
    return this.#scheduler.idle();
  }

  #escaped(slotOrLine: number, what: string, error: unknown): void {
    this.escapedErrors.push(error);
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.#log.record(slotOrLine, "exception-escaped", `${what}: ${message}`);
  }
}

/** Creates a host model (see HostModelOptions). */
export function createHostModel(options?: HostModelOptions): HostModel {
  return new HostModel(options);
}
