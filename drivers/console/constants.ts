// virtio-console numbers (VIRTIO 1.2 §5.3): queues, feature bits and the configuration
// layout, in the spec's names.

/** §5.3.2: port 0 uses queues 0 (receiveq) and 1 (transmitq); the control queues (2, 3)
 * and the queues of ports 1+ exist only with VIRTIO_CONSOLE_F_MULTIPORT. */
export const ConsoleQueue = {
  RECEIVE0: 0,
  TRANSMIT0: 1,
} as const;

/** §5.3.3 feature bits. */
export const ConsoleFeature = {
  /** cols and rows are valid. */
  SIZE: 0,
  /** Several ports, control queues; max_nr_ports is valid. Not negotiated here. */
  MULTIPORT: 1,
  /** emerg_wr is valid. Not negotiated here. */
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
