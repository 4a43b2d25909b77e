// The virtio GPU driver (VIRTIO 1.2 §5.7), 2D mode: binds to device ID 16, negotiates
// VIRTIO_GPU_F_EDID when offered (never VIRGL: no 3D), sets up the controlq and the
// cursorq, and hands out one GpuDevice per device. Display events (§5.7.4) arrive as
// configuration changes.

import type { VirtioDevice } from "../virtio/device.js";
import { DeviceHandles } from "../virtio/device-handles.js";
import { DeviceId } from "../virtio/device-types.js";
import type { RemoveReason, VirtioDriver } from "../virtio/driver.js";
import { GpuDevice, type GpuCommand, type GpuOptions } from "./gpu-device.js";
import { GpuFeature, GpuQueue } from "./gpu-spec.js";

export class GpuDriver implements VirtioDriver {
  readonly name = "virtio-gpu";
  readonly deviceIds = [DeviceId.GPU];
  readonly #devices: DeviceHandles<GpuDevice>;

  constructor(options: GpuOptions = {}) {
    this.#devices = new DeviceHandles((device) => new GpuDevice(device, options));
  }

  /** §5.7.3: EDID only. */
  features(offered: bigint): bigint {
    return offered & (1n << BigInt(GpuFeature.EDID));
  }

  probe(device: VirtioDevice): void {
    const gpu = this.#devices.obtain(device);
    const onUsed = (): void => gpu.onUsed();
    const control = device.createQueue<GpuCommand>(GpuQueue.CONTROL, { size: 64, onUsed });
    const cursor = device.createQueue<GpuCommand>(GpuQueue.CURSOR, { size: 16, onUsed });
    gpu.attach(control, cursor);
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

  /** GPUs bound to this driver, in bind order. */
  devices(): GpuDevice[] {
    return this.#devices.values();
  }
}
