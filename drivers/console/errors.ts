// Errors of the console driver. Device misbehaviour found by the ring (a used length on a
// transmit buffer, a bad used id) arrives as the ring's RingError; these cover the rest.

import { VirtioError } from "../virtio/errors.js";

/** write() was given more bytes than the transmit buffers can take now. */
export class ConsoleWriteError extends VirtioError {
  constructor(
    readonly location: string,
    readonly length: number,
    readonly writable: number,
  ) {
    super(`${location}: cannot write ${length} bytes: only ${writable} writable now (wait for onWritable)`);
  }
}

/** The port is already opened by another Serial (one reader and writer at a time). */
export class ConsoleBusyError extends VirtioError {
  constructor(readonly location: string) {
    super(`${location}: console port 0 is already open`);
  }
}

/** A method was called on a Serial after close(). */
export class ConsoleClosedError extends VirtioError {
  constructor(
    readonly location: string,
    readonly operation: string,
  ) {
    super(`${location}: cannot ${operation}: the serial port is closed`);
  }
}
