// The virtio block driver (VIRTIO 1.2 §5.2): binds to device ID 2, accepts the feature
// bits it uses (§5.2.3), reads and validates the configuration (§5.2.4), sets up the
// single requestq (§5.2.2) and hands out one BlockDevice per device. The same
// BlockDevice survives a re-initialization of its device.

import type { VirtioDevice } from "../virtio/device.js";
import { DeviceHandles } from "../virtio/device-handles.js";
import { DeviceId } from "../virtio/device-types.js";
import type { RemoveReason, VirtioDriver } from "../virtio/driver.js";
import { Feature, bit } from "../virtio/features.js";
import { readBlkConfig } from "./blk-config.js";
import { BlkFeature } from "./blk-spec.js";
import { BlockDevice, MIN_CHAIN, type BlockDeviceOptions } from "./block-device.js";

/** §5.2.2: queue 0, requestq (the only one without VIRTIO_BLK_F_MQ). */
const REQUEST_QUEUE = 0;

/** The device bits this driver uses when offered (§5.2.3). Not MQ (one queue is
 * enough here), not CONFIG_WCE (the cache mode is left as the device sets it). */
export const BLK_DRIVER_FEATURES =
  bit(BlkFeature.SIZE_MAX) |
  bit(BlkFeature.SEG_MAX) |
  bit(BlkFeature.GEOMETRY) |
  bit(BlkFeature.RO) |
  bit(BlkFeature.BLK_SIZE) |
  bit(BlkFeature.FLUSH) |
  bit(BlkFeature.TOPOLOGY) |
  bit(BlkFeature.DISCARD) |
  bit(BlkFeature.WRITE_ZEROES);

export interface BlkDriverOptions extends BlockDeviceOptions {
  /** Descriptors in the requestq (capped by QueueNumMax). Default 256. */
  readonly queueSize?: number;
}

export class BlkDriver implements VirtioDriver {
  readonly name = "virtio-blk";
  readonly deviceIds = [DeviceId.BLOCK];
  readonly #options: BlkDriverOptions;
  /** The same BlockDevice survives a re-initialization of its device. */
  readonly #devices = new DeviceHandles((device) => new BlockDevice(device, this.#options));

  constructor(options: BlkDriverOptions = {}) {
    this.#options = options;
  }

  features(offered: bigint): bigint {
    return offered & BLK_DRIVER_FEATURES;
  }

  probe(device: VirtioDevice): void {
    // Validate the configuration before taking any resource: a bad value fails the
    // device (FAILED, with the error shown by `devices`) and nothing is left allocated.
    const config = readBlkConfig(device);
    const indirect = device.hasFeature(Feature.RING_INDIRECT_DESC);
    let blk: BlockDevice | undefined;
    // A queue that cannot hold one request fails the device (QueueTooSmallError), at probe
    // and at every re-init: a chain takes header, data and status, indirect or not.
    const queue = device.createQueue<number>(REQUEST_QUEUE, {
      size: this.#options.queueSize ?? 256,
      minSize: MIN_CHAIN,
      minSizeFor: "descriptors one request takes (header, data, status)",
      onUsed: () => void blk?.onUsed(),
    });
    blk = this.#devices.obtain(device);
    blk.attach(queue, config, device.features, indirect);
  }

  ready(device: VirtioDevice): void {
    this.#devices.start(device);
  }

  remove(device: VirtioDevice, reason: RemoveReason): void {
    this.#devices.detach(device, reason);
  }

  quiesce(device: VirtioDevice): void {
    this.#devices.get(device)?.quiesce();
  }

  configChanged(device: VirtioDevice): void {
    this.#devices.get(device)?.configChanged();
  }

  /** Block devices bound to this driver, in slot order (highest slot first, as QEMU fills them). */
  devices(): BlockDevice[] {
    return this.#devices.entries().sort(([a], [b]) => b.slot - a.slot).map(([, blk]) => blk);
  }

  /** The BlockDevice of a bound VirtioDevice. */
  deviceFor(device: VirtioDevice): BlockDevice | undefined {
    return this.#devices.get(device);
  }
}
