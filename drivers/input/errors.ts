// Errors of the input driver: what the device put in its configuration or its events
// that breaks §5.8, and misuse of a closed InputDevice.

import { VirtioError } from "../virtio/errors.js";

function hex(n: number): string {
  return "0x" + n.toString(16).padStart(2, "0");
}

/** A configuration answer that breaks §5.8.5: size above 128, a devids or absinfo of the
 * wrong size, an axis with min above max. */
export class InputConfigError extends VirtioError {
  constructor(
    readonly location: string,
    readonly select: number,
    readonly subsel: number,
    readonly size: number,
    readonly reason: string,
  ) {
    super(`${location}: input config select ${hex(select)} subsel ${hex(subsel)}: size ${size}: ${reason}`);
  }
}

/** An event buffer came back shorter than struct virtio_input_event (8 bytes, §5.8.6). */
export class InputEventError extends VirtioError {
  constructor(
    readonly location: string,
    readonly length: number,
  ) {
    super(`${location}: input event of ${length} bytes (expected 8); dropped`);
  }
}

/** A method was called on an InputDevice after close(), or the device is gone. */
export class InputClosedError extends VirtioError {
  constructor(
    readonly location: string,
    readonly operation: string,
  ) {
    super(`${location}: cannot ${operation}: the input device is closed`);
  }
}

/** The device is already opened by another InputDevice (one listener at a time). */
export class InputBusyError extends VirtioError {
  constructor(readonly location: string) {
    super(`${location}: the input device is already open`);
  }
}

/** The status queue has no free buffer for another LED write. */
export class InputStatusBusyError extends VirtioError {
  constructor(readonly location: string) {
    super(`${location}: every status buffer is in flight`);
  }
}
