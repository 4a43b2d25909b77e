// Errors of the virtio-mem driver.

import { VirtioError } from "../virtio/errors.js";

/** The device's configuration breaks a rule of §5.15.4 (alignment, sizes, addresses). */
export class MemConfigError extends VirtioError {
  constructor(readonly location: string, readonly reason: string) {
    super(`${location}: virtio-mem config: ${reason}`);
  }
}

/** The device answered a request with ERROR, or with something that is not a response. */
export class MemRequestError extends VirtioError {
  constructor(
    readonly location: string,
    readonly request: string,
    readonly addr: number,
    readonly blocks: number,
    readonly answer: string,
  ) {
    super(`${location}: virtio-mem ${request} of ${blocks} block(s) at 0x${addr.toString(16)}: ${answer}`);
  }
}

/** The device's state contradicts what it acknowledged (plugged_size after an ACK, say). */
export class MemDeviceError extends VirtioError {
  constructor(readonly location: string, readonly reason: string) {
    super(`${location}: virtio-mem: ${reason}`);
  }
}

/** The platform cannot add memory (no Platform.memoryHotplug or no page pool). */
export class NoHotplugError extends VirtioError {
  constructor(readonly location: string) {
    super(`${location}: the platform cannot map hot-plugged memory: virtio-mem has nowhere to put it`);
  }
}
