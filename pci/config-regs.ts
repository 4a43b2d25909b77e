// PCI configuration space header offsets and bits (PCI Local Bus 3.0 §6.1, PCI-to-PCI
// Bridge 1.2 §3.2), the subset this layer uses.

export const Cfg = {
  VendorId: 0x00, // 16-bit
  DeviceId: 0x02, // 16-bit
  Command: 0x04, // 16-bit
  Status: 0x06, // 16-bit
  Revision: 0x08, // 8-bit
  ClassProg: 0x09, // 8-bit programming interface, then subclass 0x0a, class 0x0b
  HeaderType: 0x0e, // 8-bit, bit 7 = multi-function
  Bar0: 0x10, // six 32-bit BARs (type 0), two (type 1)
  SubsystemVendorId: 0x2c, // 16-bit (type 0)
  SubsystemId: 0x2e, // 16-bit (type 0)
  CapabilitiesPtr: 0x34, // 8-bit
  InterruptLine: 0x3c, // 8-bit
  InterruptPin: 0x3d, // 8-bit: 0 none, 1-4 INTA-INTD
  // Type 1 (bridge) header
  PrimaryBus: 0x18, // 8-bit; secondary 0x19, subordinate 0x1a
  SecondaryBus: 0x19,
  SubordinateBus: 0x1a,
  IoBase: 0x1c, // 8-bit; IoLimit 0x1d
  IoLimit: 0x1d,
  MemoryBase: 0x20, // 16-bit; MemoryLimit 0x22
  MemoryLimit: 0x22,
  PrefetchBase: 0x24, // 16-bit; PrefetchLimit 0x26, upper 32 bits 0x28 / 0x2c
  PrefetchLimit: 0x26,
  PrefetchBaseUpper: 0x28,
  PrefetchLimitUpper: 0x2c,
  IoBaseUpper: 0x30, // 16-bit; IoLimitUpper 0x32
  IoLimitUpper: 0x32,
  BridgeControl: 0x3e, // 16-bit
} as const;

export const Command = {
  Io: 1 << 0,
  Memory: 1 << 1,
  BusMaster: 1 << 2,
  IntxDisable: 1 << 10,
} as const;

/** Status bit 4: the capability list at CapabilitiesPtr is valid. */
export const STATUS_CAP_LIST = 1 << 4;

export const HEADER_MULTI_FUNCTION = 0x80;
export const HEADER_TYPE_DEVICE = 0;
export const HEADER_TYPE_BRIDGE = 1;

/** Capability IDs (PCI 3.0 Appendix H). */
export const CapId = {
  Msi: 0x05,
  Vendor: 0x09,
  PciExpress: 0x10,
  MsiX: 0x11,
} as const;

/** BAR low bits (PCI 3.0 §6.2.5.1). */
export const BAR_IO = 1;
export const BAR_MEM_TYPE_MASK = 0x6;
export const BAR_MEM_TYPE_64 = 0x4;
export const BAR_PREFETCHABLE = 0x8;

export const NO_VENDOR = 0xffff;
