// What a device model (rng, blk, console, ...) implements, and what the virtio-mmio
// register file gives it. A device model never sees registers: it sees chains of
// segments and completes them; the register file and the device queue do the rest.

import type { DeviceChain } from "./chain.js";
import type { PhysicalMemory } from "./memory.js";

/** One field of the device configuration space (offsets relative to config start). */
export interface ConfigField {
  readonly name: string;
  readonly offset: number;
  /** Field size in bytes: 8-byte fields are accessed as two 32-bit halves (§4.2.2.2). */
  readonly width: 1 | 2 | 4 | 8;
  /** Writable by the driver; otherwise a write is the "config-read-only" violation. */
  readonly writable?: boolean;
}

/** What the register file offers a device model. */
export interface DeviceContext {
  readonly memory: PhysicalMemory;
  /** The features the driver accepted (valid once FEATURES_OK was set). */
  readonly driverFeatures: bigint;
  /** Takes the next available chain of `queue`, walked and checked; null when none. */
  takeChain(queue: number): DeviceChain | null;
  /** Returns a chain through the used ring with `written` bytes written to it (§2.7.8).
   * The interrupt (if the driver wants one) follows at the end of the device's turn. */
  complete(chain: DeviceChain, written: number): void;
  /** Runs `fn` `turns` event-loop turns later (dropped if the device is reset meanwhile). */
  later(fn: () => void, turns?: number): void;
  /** The device changed its config: bump the generation and raise a config interrupt. */
  configChanged(): void;
  /** Records a driver action the device's own section of the spec forbids. */
  violation(rule: string, message: string): void;
}

export interface DeviceModel {
  /** Device ID (§5): 1 net, 2 blk, 3 console, 4 rng, 18 input, ... */
  readonly deviceId: number;
  /** Short name for messages, e.g. "rng". */
  readonly name: string;
  /** Device-specific feature bits offered (the register file adds the transport ones). */
  readonly features: bigint;
  /** Number of virtqueues. */
  readonly queueCount: number;
  /** QueueNumMax of queue `index` (default 1024, as QEMU). */
  queueMaxSize?(index: number): number;
  /** The configuration space (little-endian, §2.5), read live by the register file. */
  readonly config?: Uint8Array;
  /** The config fields, for width checks and the read-only rule. */
  readonly configFields?: readonly ConfigField[];
  /** Called once when attached to a transport. */
  bind(context: DeviceContext): void;
  /** The driver is about to read `width` config bytes at `offset`: refresh them if needed. */
  configRead?(offset: number, width: number): void;
  /** The driver wrote a writable config field (already checked against configFields).
   * Return false to refuse the write (recorded as "config-read-only"). */
  writeConfig?(offset: number, width: number, value: number): boolean;
  /** FEATURES_OK was accepted with these features. */
  featuresAccepted?(features: bigint): void;
  /** DRIVER_OK was set. */
  driverOk?(): void;
  /** Serves the available chains of `queue` (after a notification, from the event loop). */
  process(queue: number): void;
  /** Device reset (§2.4): forget every request in flight. */
  reset(): void;
}
