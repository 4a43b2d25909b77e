// The virtio memory balloon driver (VIRTIO 1.2 §5.5): binds to device ID 5, negotiates
// the features it implements, sets up inflateq, deflateq and (when offered) statsq and
// reporting_vq, and hands out one BalloonDevice per device.

import type { VirtioDevice } from "../virtio/device.js";
import { DeviceHandles } from "../virtio/device-handles.js";
import { DeviceId } from "../virtio/device-types.js";
import type { RemoveReason, VirtioDriver } from "../virtio/driver.js";
import { BalloonDevice, type BalloonOptions } from "./balloon-device.js";
import { BalloonFeature, BalloonQueue } from "./balloon-spec.js";

export interface BalloonDriverOptions extends BalloonOptions {
  /** Accept VIRTIO_BALLOON_F_PAGE_REPORTING when offered (default true). */
  readonly reporting?: boolean;
}

const bit = (n: number): bigint => 1n << BigInt(n);

export class BalloonDriver implements VirtioDriver {
  readonly name = "virtio-balloon";
  readonly deviceIds = [DeviceId.BALLOON];
  readonly #options: BalloonDriverOptions;
  readonly #devices = new DeviceHandles((device) => new BalloonDevice(device, this.#options));

  constructor(options: BalloonDriverOptions = {}) {
    this.#options = options;
  }

  /**
   * §5.5.3: MUST_TELL_HOST (SHOULD accept), STATS_VQ, DEFLATE_ON_OOM, PAGE_POISON (this
   * driver writes poison_val to every page it reuses) and PAGE_REPORTING (only with
   * STATS_VQ, where every numbering of the queues agrees: balloon-spec.ts). Not
   * FREE_PAGE_HINT (a migration aid this firmware has no use for).
   */
  features(offered: bigint): bigint {
    let wanted = bit(BalloonFeature.MUST_TELL_HOST) | bit(BalloonFeature.STATS_VQ) |
      bit(BalloonFeature.DEFLATE_ON_OOM) | bit(BalloonFeature.PAGE_POISON);
    const stats = (offered & bit(BalloonFeature.STATS_VQ)) !== 0n;
    if (stats && this.#options.reporting !== false) wanted |= bit(BalloonFeature.PAGE_REPORTING);
    return offered & wanted;
  }

  probe(device: VirtioDevice): void {
    const balloon = this.#devices.obtain(device);
    const onUsed = (): void => balloon.onUsed();
    const inflate = device.createQueue<number>(BalloonQueue.INFLATE, { size: 64, onUsed });
    const deflate = device.createQueue<number>(BalloonQueue.DEFLATE, { size: 64, onUsed });
    const stats = device.hasFeature(BalloonFeature.STATS_VQ)
      ? device.createQueue<number>(BalloonQueue.STATS, { size: 8, onUsed })
      : null;
    const report = device.hasFeature(BalloonFeature.PAGE_REPORTING)
      ? device.createQueue<number>(BalloonQueue.REPORTING, { size: 32, onUsed })
      : null;
    balloon.attach({ inflate, deflate, stats, report });
  }

  ready(device: VirtioDevice): void {
    this.#devices.start(device);
  }

  remove(device: VirtioDevice, reason: RemoveReason): void {
    this.#devices.detach(device, reason);
  }

  configChanged(device: VirtioDevice): void {
    this.#devices.get(device)?.configChanged();
  }

  /** Balloons bound to this driver, in bind order. */
  devices(): BalloonDevice[] {
    return this.#devices.values();
  }
}
