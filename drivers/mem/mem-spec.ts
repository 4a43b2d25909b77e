// The virtio memory device (VIRTIO 1.2 §5.15): feature bits, the configuration layout,
// request and response types, in the spec's names.

/** §5.15.3 feature bits. */
export const MemFeature = {
  /** node_id is valid (an ACPI PXM); meaningless on this board. */
  ACPI_PXM: 0,
  /** The driver must not access unplugged memory at all. */
  UNPLUGGED_INACCESSIBLE: 1,
  /** The guest may suspend with memory plugged; this firmware never suspends. */
  PERSISTENT_SUSPEND: 2,
} as const;

/** §5.15.4 struct virtio_mem_config (all read-only for the driver). */
export const MemConfig = {
  BLOCK_SIZE: 0,
  NODE_ID: 8,
  ADDR: 16,
  REGION_SIZE: 24,
  USABLE_REGION_SIZE: 32,
  PLUGGED_SIZE: 40,
  REQUESTED_SIZE: 48,
} as const;

/** §5.15.6 request types. */
export const MemRequest = {
  PLUG: 0,
  UNPLUG: 1,
  UNPLUG_ALL: 2,
  STATE: 3,
} as const;

/** §5.15.6 response types. */
export const MemResponse = {
  ACK: 0,
  NACK: 1,
  BUSY: 2,
  ERROR: 3,
} as const;

/** §5.15.6.4 STATE response. */
export const MemState = {
  PLUGGED: 0,
  UNPLUGGED: 1,
  MIXED: 2,
} as const;

/** §5.15.6: every request is 24 bytes, every response 10. */
export const REQUEST_BYTES = 24;
export const RESPONSE_BYTES = 10;
/** Offsets in a request: type, then addr and nb_blocks of plug/unplug/state. */
export const REQ_TYPE = 0;
export const REQ_ADDR = 8;
export const REQ_NB_BLOCKS = 16;
/** Offsets in a response: type, then the STATE response's state. */
export const RESP_TYPE = 0;
export const RESP_STATE = 8;
/** nb_blocks is a le16. */
export const MAX_BLOCKS_PER_REQUEST = 0xffff;

export const RESPONSE_NAMES = ["ACK", "NACK", "BUSY", "ERROR"] as const;
export const STATE_NAMES = ["plugged", "unplugged", "mixed"] as const;
export type BlockState = (typeof STATE_NAMES)[number];
