// virtio-input numbers (VIRTIO 1.2 §5.8): queues, the configuration layout and its
// select values, and the event struct, in the spec's names.

/** §5.8.2 */
export const InputQueue = {
  EVENT: 0,
  STATUS: 1,
} as const;

/** §5.8.3: virtio-input has no feature bits; the empty table says so to `devices`. */
export const INPUT_FEATURE_NAMES: Readonly<Record<number, string>> = {};

/** §5.8.5 enum virtio_input_config_select. */
export const InputConfigSelect = {
  UNSET: 0x00,
  ID_NAME: 0x01,
  ID_SERIAL: 0x02,
  ID_DEVIDS: 0x03,
  PROP_BITS: 0x10,
  /** subsel: the event type (EV_*). */
  EV_BITS: 0x11,
  /** subsel: the absolute axis (ABS_*). */
  ABS_INFO: 0x12,
} as const;

/** §5.8.5 struct virtio_input_config: offsets (bytes) from the start of the config space. */
export const InputConfig = {
  /** u8 select (driver-written) */
  SELECT: 0,
  /** u8 subsel (driver-written) */
  SUBSEL: 1,
  /** u8 size: bytes valid in `u`; 0 = the select/subsel pair is not supported */
  SIZE: 2,
  /** the union u: string[128] / bitmap[128] / virtio_input_absinfo / virtio_input_devids */
  U: 8,
  /** Largest `size` (the union is 128 bytes). */
  U_MAX: 128,
} as const;

/** struct virtio_input_absinfo: five le32 fields (min, max, fuzz, flat, res). */
export const ABSINFO_SIZE = 20;
/** struct virtio_input_devids: four le16 fields (bustype, vendor, product, version). */
export const DEVIDS_SIZE = 8;
/** §5.8.6 struct virtio_input_event { le16 type; le16 code; le32 value; }. */
export const EVENT_SIZE = 8;
/** Event types are 0..0x1f in evdev (EV_MAX). */
export const EV_MAX = 0x1f;
