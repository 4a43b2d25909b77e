// A small device model for core tests: device ID 42, device feature bits 0, 1 and 5,
// a 16-byte configuration (a 64-bit, a 32-bit, a 16-bit and an 8-bit field), queue 0
// with QueueNumMax 256 and queue 1 with QueueNumMax 100 (not a power of two), unless told otherwise.
// Chains are returned with nothing written.

import type { ConfigField, DeviceContext, DeviceModel } from "../../../platform/host/index.js";
import type { VirtioDevice } from "../../../drivers/virtio/device.js";
import type { RemoveReason, VirtioDriver } from "../../../drivers/virtio/driver.js";

export const TEST_DEVICE_ID = 42;

export class TestDevice implements DeviceModel {
  readonly deviceId = TEST_DEVICE_ID;
  readonly name = "test";
  readonly features = (1n << 0n) | (1n << 1n) | (1n << 5n);
  readonly queueCount = 2;
  readonly config = new Uint8Array(16);
  readonly configFields: readonly ConfigField[] = [
    { name: "big", offset: 0, width: 8 },
    { name: "word", offset: 8, width: 4 },
    { name: "half", offset: 12, width: 2 },
    { name: "byte", offset: 14, width: 1, writable: true },
  ];
  accepted = 0n;
  #ctx: DeviceContext | null = null;
  /** QueueNumMax of queues 0 and 1. */
  readonly #maxSizes: readonly [number, number];

  constructor(maxSizes: readonly [number, number] = [256, 100]) {
    this.#maxSizes = maxSizes;
    const v = new DataView(this.config.buffer);
    v.setBigUint64(0, 0x1122334455667788n, true);
    v.setUint32(8, 0xcafef00d, true);
    v.setUint16(12, 0xbeef, true);
    v.setUint8(14, 0x5a);
  }

  queueMaxSize(index: number): number {
    return index === 0 ? this.#maxSizes[0] : this.#maxSizes[1];
  }
  bind(context: DeviceContext): void {
    this.#ctx = context;
  }
  writeConfig(): boolean {
    return true;
  }
  featuresAccepted(features: bigint): void {
    this.accepted = features;
  }
  process(queue: number): void {
    const ctx = this.#ctx!;
    for (let chain = ctx.takeChain(queue); chain; chain = ctx.takeChain(queue)) ctx.complete(chain, 0);
  }
  reset(): void {}
  /** Changes a config field as the device would (generation bump + config interrupt). */
  changeWord(value: number): void {
    new DataView(this.config.buffer).setUint32(8, value, true);
    this.#ctx!.configChanged();
  }
}

/** A driver for TestDevice that records what the core asked of it. */
export class TestDriver implements VirtioDriver {
  readonly name = "test-driver";
  readonly deviceIds = [TEST_DEVICE_ID];
  readonly calls: string[] = [];
  offeredSeen = 0n;
  config: { big: bigint; word: number; half: number; byte: number } | null = null;
  /** What features() returns (the core must filter it). */
  want = (1n << 1n) | (1n << 7n) | (1n << 28n);
  /** Queue sizes asked for (undefined = the core's default). */
  sizes: (number | undefined)[] = [undefined, undefined];
  /** The least each queue must have (undefined = the core's default, 1). */
  minSizes: (number | undefined)[] = [undefined, undefined];
  /** Make probe throw. */
  failProbe: Error | null = null;

  features(offered: bigint): bigint {
    this.offeredSeen = offered;
    return this.want;
  }
  probe(device: VirtioDevice): void {
    this.calls.push("probe");
    this.config = device.readConfig((c) => ({ big: c.u64(0), word: c.u32(8), half: c.u16(12), byte: c.u8(14) }));
    device.createQueue(0, { size: this.sizes[0], minSize: this.minSizes[0], onUsed: () => {} });
    if (this.failProbe) throw this.failProbe;
    device.createQueue(1, { size: this.sizes[1], minSize: this.minSizes[1], minSizeFor: "descriptors of the test's chain", onUsed: () => {} });
  }
  ready(): void {
    this.calls.push("ready");
  }
  remove(_device: VirtioDevice, reason: RemoveReason): void {
    this.calls.push(`remove:${reason}`);
  }
  configChanged(device: VirtioDevice): void {
    this.calls.push("configChanged");
    this.config = device.readConfig((c) => ({ big: c.u64(0), word: c.u32(8), half: c.u16(12), byte: c.u8(14) }));
  }
}
