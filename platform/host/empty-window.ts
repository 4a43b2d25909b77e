// A virtio-mmio window with no device behind it: QEMU's empty transports answer the
// magic value and their version with device ID 0 (the driver skips them), read 0
// elsewhere and ignore writes.

import type { MmioHandler } from "./mmio-bus.js";
import { MMIO_MAGIC, QEMU_VENDOR_ID, REG } from "./virtio-constants.js";

export class EmptyMmioWindow implements MmioHandler {
  constructor(readonly version: 1 | 2) {}

  read(offset: number): number {
    switch (offset) {
      case REG.MagicValue: return MMIO_MAGIC;
      case REG.Version: return this.version;
      case REG.VendorID: return QEMU_VENDOR_ID;
      default: return 0;
    }
  }

  write(): void {}
}
