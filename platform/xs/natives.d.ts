// The native functions the firmware (platform/xs/natives.c) installs on the global object
// before the bundle runs. Only platform/xs/*.ts uses them; everything else goes through
// the Platform interface. Values are numbers (32-bit unsigned for addresses).

/** An object XS gives a fixed-address buffer to (xsSetHostBuffer): view it with Uint8Array. */
interface XsHostBuffer {
  readonly __xsHostBuffer: unique symbol;
}

/** What globalThis.__xsHooks holds; the C loop calls these from the event loop. */
interface XsLoopHooks {
  /** An interrupt line fired (it is masked until __xsIrqEoi). */
  irq(line: number): void;
  /** Bytes arrived on the console UART. */
  rx(bytes: ArrayBuffer): void;
  /** The deadline given to __xsTimerArm passed (the deadline is cleared). */
  timers(): void;
}

declare var __xsHooks: XsLoopHooks | undefined;

declare function __xsMmioRead8(addr: number): number;
declare function __xsMmioRead16(addr: number): number;
declare function __xsMmioRead32(addr: number): number;
declare function __xsMmioWrite8(addr: number, value: number): void;
declare function __xsMmioWrite16(addr: number, value: number): void;
declare function __xsMmioWrite32(addr: number, value: number): void;
/** Opens a PCI BAR to the mmio natives (pci_bars.c): ECAM address of the function, BAR index; returns its CPU address. */
declare function __xsPciClaimBar(configAddress: number, index: number): number;
/** dsb sy */
declare function __xsMb(): void;
/** dsb st */
declare function __xsWmb(): void;
/** dmb sy */
declare function __xsRmb(): void;
/** The DMA pool (Normal non-cacheable, fixed address). */
declare function __xsDmaRegion(): XsHostBuffer;
declare function __xsDmaBase(): number;
/** The page pool: RAM above the C heap's limit (platform/xs/page_pool.c); may be empty. */
declare function __xsPagePoolRegion(): XsHostBuffer;
declare function __xsPagePoolBase(): number;
/** Maps hot-plugged memory as RAM (1 MiB sections above RAM, below 4 GiB); throws RangeError otherwise. */
declare function __xsMapRam(phys: number, size: number): XsHostBuffer;
/** Unmaps it again: later accesses fault. */
declare function __xsUnmapRam(phys: number, size: number): void;
/** The device tree blob QEMU placed at the start of RAM (read it, never write). */
declare function __xsDtb(): XsHostBuffer;
declare function __xsIrqEnable(line: number): void;
declare function __xsIrqDisable(line: number): void;
/** Ends a dispatched interrupt: unmasks the line if it is enabled. */
declare function __xsIrqEoi(line: number): void;
/** Milliseconds since boot from the generic timer's virtual counter. */
declare function __xsNow(): number;
/** Wake the loop (hooks.timers) at `deadline` ms since boot; negative: no deadline. */
declare function __xsTimerArm(deadline: number): void;
/** A string is sent as UTF-8 with "\n" as "\r\n"; an ArrayBuffer is sent as raw bytes. */
declare function __xsConsoleWrite(data: string | ArrayBuffer): void;
declare function __xsEngineStats(): { [key: string]: number };
/** CRC-32 (IEEE, as zlib) of `length` bytes of the DMA pool at `phys`, continuing `crc`. */
declare function __xsDmaCrc32(phys: number, length: number, crc: number): number;
declare function __xsGc(): void;
declare function __xsPowerOff(): never;
/** The board the firmware was built for (boards/<board>/board.json `name`, e.g. "qemu-virt-arm"). */
declare function __xsBoardName(): string;
