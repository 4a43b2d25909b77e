// The bare-metal Platform: platform/platform.ts implemented over the C natives of the
// firmware (natives.d.ts), the same on every board (boards/README.md). The C event loop calls back into
// globalThis.__xsHooks (irq, rx, timers); nothing here runs in interrupt context.
/// <reference path="./natives.d.ts" />

import type {
  Barriers,
  BoardInfo,
  Clock,
  ConsolePort,
  DmaAllocator,
  DmaRegion,
  EngineStats,
  InterruptHandler,
  Interrupts,
  Mmio,
  Platform,
  Timers,
} from "../platform.js";
import { DmaPool } from "../dma-pool.js";
import { PagePool } from "../page-pool.js";
import { xsMemoryHotplug } from "./memory-hotplug.js";
import { parseBoardInfo } from "../fdt.js";
import { errorText, installConsole } from "./console-global.js";
import { TimerQueue } from "./timer-queue.js";

/** A bad interrupt line or handler: carries the line. */
export class InterruptLineError extends Error {
  constructor(readonly line: unknown, reason: string) {
    super(`interrupt line ${String(line)}: ${reason}`);
    this.name = "InterruptLineError";
  }
}

/** Prints an error that escaped a callback (message and stack); never throws. */
export function reportError(prefix: string, error: unknown): void {
  try {
    const text = error instanceof Error ? errorText(error) : String(error);
    __xsConsoleWrite(`${prefix}${text}\n`);
  } catch {
    __xsConsoleWrite(`${prefix}(unprintable value)\n`);
  }
}

const mmio: Mmio = Object.freeze({
  read8: (addr: number) => __xsMmioRead8(addr),
  read16: (addr: number) => __xsMmioRead16(addr),
  read32: (addr: number) => __xsMmioRead32(addr),
  write8: (addr: number, value: number) => __xsMmioWrite8(addr, value),
  write16: (addr: number, value: number) => __xsMmioWrite16(addr, value),
  write32: (addr: number, value: number) => __xsMmioWrite32(addr, value),
});

const barriers: Barriers = Object.freeze({
  mb: () => __xsMb(),
  rmb: () => __xsRmb(),
  wmb: () => __xsWmb(),
});

const clock: Clock = Object.freeze({ now: () => __xsNow() });

/** Interrupt lines with one handler each; dispatch() is called by the C loop's irq hook. */
class XsInterrupts implements Interrupts {
  readonly #handlers = new Map<number, InterruptHandler>();

  #check(line: number): void {
    if (!Number.isInteger(line) || line < 0 || line > 1019) throw new InterruptLineError(line, "not an interrupt line (a GIC INTID or PLIC source, 0-1019)");
  }

  attach(line: number, handler: InterruptHandler): void {
    this.#check(line);
    if (typeof handler !== "function") throw new InterruptLineError(line, "handler is not a function");
    if (this.#handlers.has(line)) throw new InterruptLineError(line, "already has a handler");
    this.#handlers.set(line, handler);
  }

  detach(line: number): void {
    this.#check(line);
    if (this.#handlers.delete(line)) __xsIrqDisable(line);
  }

  enable(line: number): void {
    this.#check(line);
    __xsIrqEnable(line);
  }

  disable(line: number): void {
    this.#check(line);
    __xsIrqDisable(line);
  }

  eoi(line: number): void {
    this.#check(line);
    __xsIrqEoi(line);
  }

  /** Calls the line's handler, then ends the interrupt (unmasking the line) whatever happens. */
  dispatch(line: number): void {
    const handler = this.#handlers.get(line);
    try {
      handler?.(line);
    } catch (error) {
      reportError(`interrupt ${line} handler: `, error);
    } finally {
      __xsIrqEoi(line);
    }
  }
}

class XsConsole implements ConsolePort {
  onReceive: ((data: Uint8Array) => void) | null = null;

  write(data: string | Uint8Array): void {
    if (typeof data === "string") {
      __xsConsoleWrite(data);
      return;
    }
    if (!(data instanceof Uint8Array)) throw new TypeError("console.write: expected a string or a Uint8Array");
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    __xsConsoleWrite(whole ? (data.buffer as ArrayBuffer) : data.slice().buffer);
  }

  /** Called by the C loop's rx hook with the bytes drained from the UART. */
  deliver(bytes: ArrayBuffer): void {
    const receiver = this.onReceive;
    if (!receiver) return;
    try {
      receiver(new Uint8Array(bytes));
    } catch (error) {
      reportError("console receiver: ", error);
    }
  }
}

function engineStats(): EngineStats {
  return Object.freeze({ ...__xsEngineStats() });
}

let instance: Platform | null = null;

/** The platform of the running firmware (one per boot: a second call returns the same). */
export function createXsPlatform(): Platform {
  if (instance) return instance;
  const region: DmaRegion = Object.freeze({
    phys: __xsDmaBase(),
    bytes: new Uint8Array(__xsDmaRegion() as unknown as ArrayBuffer),
  });
  const dma: DmaAllocator = new DmaPool(region);
  const pages = new PagePool({ phys: __xsPagePoolBase(), bytes: new Uint8Array(__xsPagePoolRegion() as unknown as ArrayBuffer) });
  const board: BoardInfo = parseBoardInfo(new Uint8Array(__xsDtb() as unknown as ArrayBuffer));
  const irq = new XsInterrupts();
  const consolePort = new XsConsole();
  const timerQueue = new TimerQueue(
    () => __xsNow(),
    (deadline) => __xsTimerArm(deadline),
    (error) => reportError("timer callback: ", error),
  );
  const timers: Timers = timerQueue;

  globalThis.__xsHooks = Object.freeze({
    irq: (line: number) => irq.dispatch(line),
    rx: (bytes: ArrayBuffer) => consolePort.deliver(bytes),
    timers: () => timerQueue.service(),
  });

  instance = Object.freeze({
    name: `xs-${__xsBoardName()}`,
    mmio,
    barriers,
    dma,
    irq,
    clock,
    timers,
    console: consolePort,
    board,
    pages,
    memoryHotplug: xsMemoryHotplug(board),
    pciBars: Object.freeze({ claim: (configAddress: number, index: number) => __xsPciClaimBar(configAddress, index) }),
    engineStats,
    powerOff: () => __xsPowerOff(),
  });
  return instance;
}

installConsole((text) => __xsConsoleWrite(text));
