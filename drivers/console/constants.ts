// virtio-console numbers (VIRTIO 1.2 §5.3): queues, feature bits and the configuration
// layout, in the spec's names.

/** §5.3.2: port 0 uses queues 0 (receiveq) and 1 (transmitq); the control queues (2, 3)
 * and the queues of ports 1+ exist only with VIRTIO_CONSOLE_F_MULTIPORT. */
export const ConsoleQueue = {
  RECEIVE0: 0,
  TRANSMIT0: 1,
  CONTROL_RECEIVE: 2,
  CONTROL_TRANSMIT: 3,
} as const;

/** §5.3.2: the receiveq of port `id` (0, then 4, 6, ...: port n at 2n + 2). */
export function receiveQueueOf(id: number): number {
  return id === 0 ? ConsoleQueue.RECEIVE0 : 2 * id + 2;
}

/** §5.3.2: the transmitq of port `id` (1, then 5, 7, ...: port n at 2n + 3). */
export function transmitQueueOf(id: number): number {
  return id === 0 ? ConsoleQueue.TRANSMIT0 : 2 * id + 3;
}

/** §5.3.6.2 struct virtio_console_control: le32 id, le16 event, le16 value. */
export const CONTROL_BYTES = 8;
/** §5.3.6.2 struct virtio_console_resize after a RESIZE message: le16 cols, le16 rows. */
export const RESIZE_BYTES = 4;

/** §5.3.6.2 control events. */
export const ControlEvent = {
  /** driver -> device: ready for control messages (value 1) or failed (0). */
  DEVICE_READY: 0,
  /** device -> driver: a new port `id`. */
  DEVICE_ADD: 1,
  /** device -> driver: port `id` is gone. */
  DEVICE_REMOVE: 2,
  /** driver -> device: port `id` is set up (value 1) or could not be (0). */
  PORT_READY: 3,
  /** device -> driver: port `id` is a console (the driver answers PORT_OPEN 1). */
  CONSOLE_PORT: 4,
  /** device -> driver: cols and rows of port `id` follow. */
  RESIZE: 5,
  /** both ways: port `id` opened (value 1) or closed (0) at the sender's end. */
  PORT_OPEN: 6,
  /** device -> driver: the UTF-8 name of port `id` follows (no NUL). */
  PORT_NAME: 7,
} as const;

/** Names of the control events, for errors. */
export const CONTROL_EVENT_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(ControlEvent).map(([name, n]) => [n, name]),
);

/** §5.3.3 feature bits. */
export const ConsoleFeature = {
  /** cols and rows are valid. */
  SIZE: 0,
  /** Several ports, control queues; max_nr_ports is valid. */
  MULTIPORT: 1,
  /** emerg_wr is valid. */
  EMERG_WRITE: 2,
} as const;

/** Names of the §5.3.3 feature bits, for `devices`. */
export const CONSOLE_FEATURE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(ConsoleFeature).map(([name, n]) => [n, name]),
);

/** §5.3.4 struct virtio_console_config: offsets (bytes) from the start of the config space. */
export const ConsoleConfig = {
  /** le16 cols */
  COLS: 0,
  /** le16 rows */
  ROWS: 2,
  /** le32 max_nr_ports (MULTIPORT) */
  MAX_NR_PORTS: 4,
  /** le32 emerg_wr (EMERG_WRITE) */
  EMERG_WR: 8,
} as const;
