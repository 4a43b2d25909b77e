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
    super(`${location}: the console port is already open`);
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

/** The device broke a rule of the control queues (§5.3.6.2): `kind` names which
 * (short-message, unknown-event, wrong-direction, bad-port, bad-length, duplicate-add,
 * unknown-port, bad-value, duplicate-name, tx-stuck), `id` and `event` the message's. */
export class ConsoleControlError extends VirtioError {
  constructor(
    readonly location: string,
    readonly kind: string,
    detail: string,
    readonly id?: number,
    readonly event?: number,
  ) {
    super(`${location}: console control: ${detail}`);
  }
}

/** The config space holds a value the driver cannot use (§5.3.4), e.g. max_nr_ports 0. */
export class ConsoleConfigError extends VirtioError {
  constructor(
    readonly location: string,
    detail: string,
  ) {
    super(`${location}: console config: ${detail}`);
  }
}

/** No port of that name (or number) on any console device. */
export class ConsolePortNotFoundError extends VirtioError {
  constructor(readonly specifier: string) {
    super(`no virtio console port named ${JSON.stringify(specifier)}`);
  }
}
