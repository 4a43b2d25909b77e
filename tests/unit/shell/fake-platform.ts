// A small in-memory Platform for the shell tests: a console to type into and read from,
// manual timers, fixed engine and DMA statistics. Only what the shell uses is real.

import type { DmaStats, EngineStats, Platform, TimerCallback } from "../../../platform/platform.js";
import type { DeviceInfo } from "../../../drivers/virtio/device-info.js";

export interface FakePlatform extends Platform {
  /** Everything written to the console, as text. */
  output(): string;
  /** Forgets the output so far. */
  clearOutput(): void;
  /** Types text (UTF-8) or bytes on the console. */
  type(data: string | Uint8Array | number[]): void;
  /** Runs due timers after advancing the clock by `ms`. */
  advance(ms: number): void;
  readonly poweredOff: boolean;
}

export interface FakeOptions {
  engineStats?: () => EngineStats;
  dmaStats?: DmaStats;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function fakePlatform(options: FakeOptions = {}): FakePlatform {
  const chunks: Uint8Array[] = [];
  let now = 0;
  let nextTimer = 1;
  const timers = new Map<number, { at: number; repeat: number; callback: TimerCallback }>();
  let poweredOff = false;
  const unused = () => {
    throw new Error("not in the fake platform");
  };
  const platform: FakePlatform = {
    name: "fake",
    mmio: { read8: unused, read16: unused, read32: unused, write8: unused, write16: unused, write32: unused },
    barriers: { mb() {}, rmb() {}, wmb() {} },
    dma: {
      alloc: unused,
      free: unused,
      contains: () => false,
      stats: () => options.dmaStats ?? { total: 1048576, used: 12288, peak: 16384, allocations: 3 },
    },
    irq: { attach() {}, detach() {}, enable() {}, disable() {}, eoi() {} },
    clock: { now: () => now },
    timers: {
      set(callback, delay = 0, repeat = 0) {
        const id = nextTimer++;
        timers.set(id, { at: now + delay, repeat, callback });
        return id;
      },
      repeat(callback, interval) {
        return this.set(callback, interval, interval);
      },
      clear(id) {
        timers.delete(id);
      },
    },
    console: {
      write(data) {
        chunks.push(typeof data === "string" ? encoder.encode(data) : data.slice());
      },
      onReceive: null,
    },
    board: { model: "linux,dummy-virt", ram: { base: 0x40000000, size: 128 * 1024 * 1024 }, virtioMmio: [] },
    engineStats: () => (options.engineStats ? options.engineStats() : { heapUsed: 307200, slotsUsed: 1500 }),
    powerOff() {
      poweredOff = true;
    },
    output() {
      let total = 0;
      for (const c of chunks) total += c.length;
      const all = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) {
        all.set(c, at);
        at += c.length;
      }
      return decoder.decode(all);
    },
    clearOutput() {
      chunks.length = 0;
    },
    type(data) {
      const bytes = typeof data === "string" ? encoder.encode(data) : Uint8Array.from(data);
      const receive = platform.console.onReceive;
      if (receive === null) throw new Error("nobody listens on the console");
      receive(bytes);
    },
    advance(ms) {
      now += ms;
      for (const [id, t] of [...timers]) {
        if (t.at > now) continue;
        if (t.repeat > 0) t.at += t.repeat;
        else timers.delete(id);
        t.callback(id);
      }
    },
    get poweredOff() {
      return poweredOff;
    },
  };
  return platform;
}

/** A device record as the bus would give it. */
export function fakeDevice(overrides: Partial<DeviceInfo> = {}): DeviceInfo {
  return {
    slot: 31,
    base: 0x0a003e00,
    irq: 79,
    version: 2,
    deviceId: 4,
    type: "rng",
    vendorId: 0x554d4551,
    status: "DRIVER_OK",
    features: 0x0000000130000000n,
    driver: "virtio-rng",
    error: null,
    ...overrides,
  };
}

/** Lets queued promise jobs run (several turns, for chains of awaits). */
export async function flush(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
