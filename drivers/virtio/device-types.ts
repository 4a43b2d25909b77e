// Device IDs (VIRTIO 1.2 §5 "Device Types") and the short names the shell prints.

export const DeviceId = {
  NET: 1,
  BLOCK: 2,
  CONSOLE: 3,
  ENTROPY: 4,
  BALLOON: 5,
  SCSI: 8,
  NINEP: 9,
  GPU: 16,
  INPUT: 18,
  VSOCK: 19,
  CRYPTO: 20,
  IOMMU: 23,
  MEMORY: 24,
  SOUND: 25,
  FS: 26,
  PMEM: 27,
  I2C: 34,
  GPIO: 41,
} as const;

const NAMES: Readonly<Record<number, string>> = {
  1: "net",
  2: "blk",
  3: "console",
  4: "rng",
  5: "balloon",
  8: "scsi",
  9: "9p",
  16: "gpu",
  18: "input",
  19: "vsock",
  20: "crypto",
  23: "iommu",
  24: "mem",
  25: "sound",
  26: "fs",
  27: "pmem",
  34: "i2c",
  41: "gpio",
};

/** "blk", "rng", ... or "id-N" for a device type this table does not name. */
export function deviceTypeName(deviceId: number): string {
  return NAMES[deviceId] ?? `id-${deviceId}`;
}
