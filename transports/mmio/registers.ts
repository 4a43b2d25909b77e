// The virtio-mmio register map (VIRTIO 1.2 §4.2.2 "MMIO Device Register Layout", and
// §4.2.4 for the legacy-only registers). Offsets from the window's base; every register
// is 32 bits wide and little-endian. Names follow the spec.

export const MmioReg = {
  /** R: 0x74726976 ("virt" in little-endian). */
  MagicValue: 0x000,
  /** R: 2 (modern) or 1 (legacy). */
  Version: 0x004,
  /** R: device ID (§5); 0 = no device behind this window. */
  DeviceID: 0x008,
  /** R: subsystem vendor ID. */
  VendorID: 0x00c,
  /** R: 32 device feature bits, the word picked by DeviceFeaturesSel. */
  DeviceFeatures: 0x010,
  /** W: which 32-bit word of DeviceFeatures to read. */
  DeviceFeaturesSel: 0x014,
  /** W: 32 driver feature bits, the word picked by DriverFeaturesSel. */
  DriverFeatures: 0x020,
  /** W: which 32-bit word of DriverFeatures to write. */
  DriverFeaturesSel: 0x024,
  /** W (legacy only): the guest page size, used to scale QueuePFN (§4.2.4). */
  GuestPageSize: 0x028,
  /** W: the queue index that the Queue* registers refer to. */
  QueueSel: 0x030,
  /** R: largest queue size for the selected queue; 0 = queue not available. */
  QueueNumMax: 0x034,
  /** W: queue size the driver uses for the selected queue. */
  QueueNum: 0x038,
  /** W (legacy only): used ring alignment in bytes (§4.2.4). */
  QueueAlign: 0x03c,
  /** RW (legacy only): page number of the queue; 0 = queue not in use (§4.2.4). */
  QueuePFN: 0x040,
  /** RW (modern only): 1 = the selected queue is live. */
  QueueReady: 0x044,
  /** W: available buffer notification; the value is the queue index. */
  QueueNotify: 0x050,
  /** R: bit 0 used buffer, bit 1 configuration change. */
  InterruptStatus: 0x060,
  /** W: acknowledges the InterruptStatus bits written. */
  InterruptACK: 0x064,
  /** RW: device status (§2.1); writing 0 resets the device. */
  Status: 0x070,
  /** W (modern only): descriptor table physical address, low / high 32 bits. */
  QueueDescLow: 0x080,
  QueueDescHigh: 0x084,
  /** W (modern only): driver area (available ring) address. */
  QueueDriverLow: 0x090,
  QueueDriverHigh: 0x094,
  /** W (modern only): device area (used ring) address. */
  QueueDeviceLow: 0x0a0,
  QueueDeviceHigh: 0x0a4,
  /** R (modern only): configuration atomicity value (§2.5.1). */
  ConfigGeneration: 0x0fc,
  /** Device-specific configuration space starts here (§4.2.2). */
  Config: 0x100,
} as const;

/** MagicValue: the bytes "virt" read as a little-endian 32-bit word. */
export const MMIO_MAGIC = 0x74726976;

/** Legacy page size the driver announces in GuestPageSize and uses for QueuePFN. */
export const LEGACY_PAGE_SIZE = 4096;
