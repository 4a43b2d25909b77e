// Errors of the virtio-net driver. Each carries the values that caused it.

import { VirtioError } from "../virtio/errors.js";

/** Every transmit slot is in flight: try again after onWritable (backpressure). */
export class NetQueueFullError extends VirtioError {
  constructor(
    readonly location: string,
    readonly slots: number,
  ) {
    super(`${location}: transmit queue full (${slots} frames in flight)`);
  }
}

/** A frame to send is empty or larger than the device takes (no GSO negotiated). */
export class FrameSizeError extends VirtioError {
  constructor(
    readonly length: number,
    readonly max: number,
  ) {
    super(`frame of ${length} bytes: must be 14 to ${max} bytes`);
  }
}

/** The NetDevice was closed, or its device is unbound / not ready. */
export class NetClosedError extends VirtioError {
  constructor(
    readonly location: string,
    readonly reason: string,
  ) {
    super(`${location}: network device ${reason}`);
  }
}

/** A value the device wrote is not allowed (config or used length); the driver keeps going. */
export class NetDeviceError extends VirtioError {
  constructor(
    readonly location: string,
    readonly what: string,
    readonly value: number | string,
  ) {
    super(`${location}: device gave bad ${what}: ${value}`);
  }
}

/** A control queue command (§5.1.6.5) was refused or not acknowledged. */
export class NetControlError extends VirtioError {
  constructor(
    readonly location: string,
    readonly command: string,
    readonly reason: string,
  ) {
    super(`${location}: control command ${command}: ${reason}`);
  }
}

/** The device held a transmit buffer past the driver's deadline (a hung transmit queue):
 * the driver resets and re-initializes it (its buffers come back, counted in txAbandoned). */
export class NetTxTimeoutError extends VirtioError {
  constructor(
    readonly location: string,
    readonly inFlight: number,
    readonly ageMs: number,
    readonly timeoutMs: number,
  ) {
    super(`${location}: transmit queue hung: a frame held ${Math.round(ageMs)} ms (limit ${timeoutMs} ms, ${inFlight} in flight): resetting the device`);
  }
}
