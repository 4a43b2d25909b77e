// What the bus knows about one transport that holds a device: the record behind the
// shell's `devices` table and `devices --json`.

export interface DeviceInfo {
  /** Transport slot (virtio-mmio window index in address order). */
  readonly slot: number;
  /** Transport base address. */
  readonly base: number;
  /** Interrupt line (GIC INTID on `virt`). */
  readonly irq: number;
  /** Transport version: 1 legacy, 2 modern. */
  readonly version: number;
  /** Device ID (VIRTIO 1.2 §5). */
  readonly deviceId: number;
  /** Short type name: "net", "blk", "console", "rng", "input", ... or "id-N". */
  readonly type: string;
  readonly vendorId: number;
  /** Furthest status step reached: "DRIVER_OK", "FEATURES_OK", "DRIVER", "ACKNOWLEDGE",
   * "FAILED", "NEEDS_RESET" or "RESET" (no driver bound). */
  readonly status: string;
  /** Negotiated feature bits (0n if negotiation did not happen). */
  readonly features: bigint;
  /** Name of the bound driver, if any. */
  readonly driver: string | null;
  /** Last error of the device or its driver, if any. */
  readonly error: string | null;
  /** The transport kind: "mmio" or "pci" (added by the bus). */
  readonly transport?: string;
  /** "mmio v1", "mmio v2", "pci modern", "pci legacy". */
  readonly mode?: string;
  /** "00:01.0" for a PCI function, null for mmio. */
  readonly pciAddress?: string | null;
  /** "line 48" (mmio), "intx 36", "msix 3 (80-82)". */
  readonly interrupt?: string;
}
