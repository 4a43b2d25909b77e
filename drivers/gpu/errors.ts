// Errors of the virtio GPU driver.

import { VirtioError } from "../virtio/errors.js";
import { gpuTypeName } from "./gpu-spec.js";

/** The device answered a command with one of the ERR_* responses (§5.7.6.7). */
export class GpuResponseError extends VirtioError {
  readonly commandName: string;
  readonly responseName: string;
  constructor(
    readonly location: string,
    readonly command: number,
    readonly response: number,
  ) {
    super(`${location}: gpu: ${gpuTypeName(command)} failed: ${gpuTypeName(response)}`);
    this.commandName = gpuTypeName(command);
    this.responseName = gpuTypeName(response);
  }
}

/** The device broke a rule of §5.7 (a response of the wrong type or size, a fence not
 * echoed, a config value out of range): the device is marked broken. */
export class GpuDeviceError extends VirtioError {
  constructor(
    readonly location: string,
    readonly reason: string,
  ) {
    super(`${location}: gpu: ${reason}`);
  }
}

/** A display or cursor was used after close(), or the device was reset under it. */
export class GpuClosedError extends VirtioError {
  constructor(
    readonly location: string,
    readonly what: string,
  ) {
    super(`${location}: gpu: ${what}`);
  }
}
