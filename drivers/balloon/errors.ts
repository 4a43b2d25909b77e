// Errors of the balloon driver.

import { VirtioError } from "../virtio/errors.js";

/** The platform offers no page pool, so there is nothing the balloon could give. */
export class NoPagePoolError extends VirtioError {
  constructor(readonly location: string) {
    super(`${location}: the platform has no page pool: a balloon has no memory to give`);
  }
}

/** The device broke a balloon rule (a ring error on one of its queues, a bad config). */
export class BalloonDeviceError extends VirtioError {
  constructor(
    readonly location: string,
    readonly reason: string,
  ) {
    super(`${location}: balloon: ${reason}`);
  }
}
