// Errors of the virtio-mmio transport (transports/mmio): what probe and queue setup refuse.

import { VirtioError } from "../../drivers/virtio/errors.js";

function hex(value: number): string {
  return "0x" + (value >>> 0).toString(16).padStart(8, "0");
}

/** MagicValue was not 0x74726976: nothing virtio-mmio lives at `base` (§4.2.2). */
export class BadMagicError extends VirtioError {
  constructor(
    readonly base: number,
    readonly value: number,
  ) {
    super(`virtio-mmio@${hex(base)}: bad magic ${hex(value)} (expected 0x74726976)`);
  }
}

/** Version was neither 1 (legacy, §4.2.4) nor 2 (modern, §4.2.2). */
export class UnsupportedVersionError extends VirtioError {
  constructor(
    readonly base: number,
    readonly version: number,
  ) {
    super(`virtio-mmio@${hex(base)}: unsupported version ${version} (expected 1 or 2)`);
  }
}

/** A queue area the transport cannot express: not an address, or (legacy) not a 32-bit page number. */
export class QueueAddressError extends VirtioError {
  constructor(
    readonly location: string,
    readonly index: number,
    readonly address: number,
    readonly reason: string,
  ) {
    super(`${location}: queue ${index}: address 0x${address.toString(16)} ${reason}`);
  }
}

/** A configuration space access outside the window's configuration space (§4.2.2: it
 * starts at 0x100 and ends with the window), or at an offset that is not an integer. */
export class ConfigAccessError extends VirtioError {
  constructor(
    readonly location: string,
    readonly offset: number,
    readonly width: number,
    readonly configSize: number,
  ) {
    super(`${location}: ${width * 8}-bit config access at offset ${offset} is outside the ${configSize}-byte configuration space`);
  }
}
