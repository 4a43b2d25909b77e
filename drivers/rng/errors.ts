// Errors of the entropy driver.

import { VirtioError } from "../virtio/errors.js";

/** The device kept returning buffers with no bytes in them (§5.4.6.1: it MUST place one or more). */
export class RngDeviceError extends VirtioError {
  constructor(
    readonly location: string,
    readonly emptyReturns: number,
  ) {
    super(`${location}: entropy device returned ${emptyReturns} empty buffers in a row`);
  }
}
