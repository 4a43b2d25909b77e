// Where a modeled virtio-pci function keeps its structures (as QEMU 7.2 lays them out):
// BAR0 the legacy I/O block (transitional and legacy devices), BAR1 the MSI-X table
// and PBA, BAR4 a 64-bit prefetchable memory BAR holding the common configuration,
// ISR, device configuration and notification areas (VIRTIO 1.2 §4.1.4).

export const LEGACY_BAR = 0;
export const MSIX_BAR = 1;
export const MODERN_BAR = 4;
export const MODERN_BAR_SIZE = 0x4000;
export const MSIX_BAR_SIZE = 0x1000;

export const COMMON_OFFSET = 0x0000;
export const COMMON_LENGTH = 0x38;
export const ISR_OFFSET = 0x1000;
export const ISR_LENGTH = 4;
export const DEVICE_OFFSET = 0x2000;
export const NOTIFY_OFFSET = 0x3000;

/** virtio_pci_cap cfg_type (§4.1.4). */
export const CapType = { Common: 1, Notify: 2, Isr: 3, Device: 4, PciCfg: 5 } as const;

/** Common configuration fields (§4.1.4.3): offset -> [width, name, writable]. */
export const COMMON_FIELDS: Record<number, readonly [1 | 2 | 4, string, boolean]> = {
  0x00: [4, "device_feature_select", true],
  0x04: [4, "device_feature", false],
  0x08: [4, "driver_feature_select", true],
  0x0c: [4, "driver_feature", true],
  0x10: [2, "config_msix_vector", true],
  0x12: [2, "num_queues", false],
  0x14: [1, "device_status", true],
  0x15: [1, "config_generation", false],
  0x16: [2, "queue_select", true],
  0x18: [2, "queue_size", true],
  0x1a: [2, "queue_msix_vector", true],
  0x1c: [2, "queue_enable", true],
  0x1e: [2, "queue_notify_off", false],
  0x20: [4, "queue_desc (low)", true],
  0x24: [4, "queue_desc (high)", true],
  0x28: [4, "queue_driver (low)", true],
  0x2c: [4, "queue_driver (high)", true],
  0x30: [4, "queue_device (low)", true],
  0x34: [4, "queue_device (high)", true],
};

/** Legacy I/O block (§4.1.4.8): offsets; the device config follows at 0x14, or 0x18 with MSI-X on. */
export const Legacy = {
  HostFeatures: 0x00, // 32-bit r
  GuestFeatures: 0x04, // 32-bit rw
  QueuePfn: 0x08, // 32-bit rw
  QueueSize: 0x0c, // 16-bit r
  QueueSelect: 0x0e, // 16-bit rw
  QueueNotify: 0x10, // 16-bit rw
  Status: 0x12, // 8-bit rw
  Isr: 0x13, // 8-bit r
  ConfigVector: 0x14, // 16-bit rw, MSI-X on only
  QueueVector: 0x16, // 16-bit rw, MSI-X on only
} as const;

export const LEGACY_WIDTHS: Record<number, 1 | 2 | 4> = {
  0x00: 4, 0x04: 4, 0x08: 4, 0x0c: 2, 0x0e: 2, 0x10: 2, 0x12: 1, 0x13: 1, 0x14: 2, 0x16: 2,
};

/** Transitional PCI device IDs (§4.1.2.3), by virtio device type. */
export const TRANSITIONAL_IDS: Record<number, number> = { 1: 0x1000, 2: 0x1001, 5: 0x1002, 3: 0x1003, 8: 0x1004, 4: 0x1005, 9: 0x1009 };

/** PCI class codes QEMU gives virtio devices. */
export const CLASS_CODES: Record<number, number> = { 1: 0x020000, 2: 0x010000, 3: 0x078000, 4: 0x00ff00, 18: 0x098000 };
