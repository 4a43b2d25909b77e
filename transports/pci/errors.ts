// Errors of the virtio-pci transport (transports/pci): what probe refuses.

import { VirtioError } from "../../drivers/virtio/errors.js";

/** The function's virtio capabilities are missing, malformed or point outside their BAR. */
export class PciCapabilityError extends VirtioError {
  constructor(
    readonly location: string,
    readonly detail: string,
  ) {
    super(`${location}: ${detail}`);
  }
}

/** A register or config access outside the area its capability (or legacy block) gives. */
export class PciAreaAccessError extends VirtioError {
  constructor(
    readonly location: string,
    readonly area: string,
    readonly offset: number,
    readonly width: number,
    readonly length: number,
  ) {
    super(`${location}: ${width * 8}-bit access at ${offset} of the ${area} area (${length} bytes)`);
  }
}
