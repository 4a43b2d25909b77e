// Numbers from the spec, in the spec's names, for the device side of the model.
// The model keeps its own copy on purpose: it is written independently of the driver.

/** virtio-mmio register offsets (VIRTIO 1.2 §4.2.2; legacy ones from §4.2.4). */
export const REG = {
  MagicValue: 0x000,
  Version: 0x004,
  DeviceID: 0x008,
  VendorID: 0x00c,
  DeviceFeatures: 0x010,
  DeviceFeaturesSel: 0x014,
  DriverFeatures: 0x020,
  DriverFeaturesSel: 0x024,
  GuestPageSize: 0x028, // legacy only
  QueueSel: 0x030,
  QueueNumMax: 0x034,
  QueueNum: 0x038,
  QueueAlign: 0x03c, // legacy only
  QueuePFN: 0x040, // legacy only
  QueueReady: 0x044, // modern only
  QueueNotify: 0x050,
  InterruptStatus: 0x060,
  InterruptACK: 0x064,
  Status: 0x070,
  QueueDescLow: 0x080,
  QueueDescHigh: 0x084,
  QueueDriverLow: 0x090,
  QueueDriverHigh: 0x094,
  QueueDeviceLow: 0x0a0,
  QueueDeviceHigh: 0x0a4,
  SHMSel: 0x0ac,
  SHMLenLow: 0x0b0,
  SHMLenHigh: 0x0b4,
  SHMBaseLow: 0x0b8,
  SHMBaseHigh: 0x0bc,
  QueueReset: 0x0c0,
  ConfigGeneration: 0x0fc,
  Config: 0x100,
} as const;

export const MMIO_MAGIC = 0x7472_6976; // "virt"
export const QEMU_VENDOR_ID = 0x554d_4551; // "QEMU"
export const MMIO_WINDOW_SIZE = 0x200;
export const DEFAULT_QUEUE_NUM_MAX = 1024;

/** Device status bits (§2.1). */
export const STATUS = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
} as const;

/** Reserved feature bits (§6). */
export const F_RING_INDIRECT_DESC = 28n;
export const F_RING_EVENT_IDX = 29n;
export const F_VERSION_1 = 32n;

/** Descriptor flags (§2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
/** Available ring flags (§2.7.6). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** Used ring flags (§2.7.8). */
export const VIRTQ_USED_F_NO_NOTIFY = 1;

/** Sizes of the split ring's parts (§2.7, table "Virtqueue Part"). */
export const DESC_SIZE = 16;
export const descTableSize = (num: number): number => 16 * num;
export const availSize = (num: number): number => 6 + 2 * num;
export const usedSize = (num: number): number => 6 + 8 * num;

/** InterruptStatus bits (§4.2.2). */
export const INT_USED_BUFFER = 1;
export const INT_CONFIG_CHANGE = 2;

/** vring_need_event (§2.7.10): should the device signal for used idx moving old -> new? */
export function needEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}
