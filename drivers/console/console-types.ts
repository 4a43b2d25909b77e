// The types of a console port (console-port.ts): its options, size, listener, counters,
// and what it tells the control queue.

import type { ConsolePort } from "./console-port.js";

export interface ConsolePortOptions {
  /** Receive buffers kept on the receiveq. Default 8. */
  readonly rxBuffers?: number;
  /** Bytes per receive buffer. Default 512. */
  readonly rxBufferSize?: number;
  /** Transmit buffers (the most bytes in flight is txBuffers * txBufferSize). Default 8. */
  readonly txBuffers?: number;
  /** Bytes per transmit buffer. Default 512. */
  readonly txBufferSize?: number;
  /** Unread bytes plus bytes the posted receive buffers may bring stay within this: past
   * it, receive buffers wait until the reader catches up (flow control). Default
   * 2 * rxBuffers * rxBufferSize. */
  readonly rxLimit?: number;
  /** No transmit buffer back for this long (ms) while some are out: the device is reset
   * and re-initialized, which gives them back (counted in stats().txTimeouts). 0: never.
   * Default 5000: a host end that stops reading for longer than that gets the device reset
   * (and bytes still out are lost); 0 if a port's host may stop reading for good. */
  readonly txTimeoutMs?: number;
}

/** The console size (§5.3.4: cols and rows, valid with VIRTIO_CONSOLE_F_SIZE). */
export interface ConsoleSize {
  readonly cols: number;
  readonly rows: number;
}

/** What a port tells the control queue (console-control.ts): its guest end opened or closed. */
export interface PortControl {
  guestOpen(port: ConsolePort, open: boolean): void;
}

/** Who hears about a port: a Serial. Calls come from the event loop. */
export interface ConsoleListener {
  readable(count: number): void;
  writable(count: number): void;
  error(error: Error): void;
}

export interface ConsoleStats {
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** Receive buffers the device returned. */
  readonly rxCompletions: number;
  /** Transmit buffers the device returned. */
  readonly txCompletions: number;
  /** Refills that left receive buffers off the ring because the reader lagged (flow control). */
  readonly rxHeld: number;
  /** Size changes seen (config change interrupts with SIZE). */
  readonly resizes: number;
  /** Times the device kept transmit buffers past txTimeoutMs (each reset the device). */
  readonly txTimeouts: number;
}
