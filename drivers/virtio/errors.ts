// The core's errors (drivers/virtio). Each carries the values that made it happen, so a
// log line or a test can say exactly what the device or the driver did.

function hex(value: number | bigint): string {
  return "0x" + value.toString(16);
}

/** Base class of every virtio stack error: `name` is the class name on every engine. */
export class VirtioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The device did not read back status 0 after a reset within the allowed time (§2.4). */
export class ResetTimeoutError extends VirtioError {
  constructor(
    readonly location: string,
    readonly status: number,
    readonly waitedMs: number,
  ) {
    super(`${location}: status still ${hex(status)} ${waitedMs} ms after reset`);
  }
}

/** The device cleared FEATURES_OK after the driver set it: it refused the features (§3.1.1 step 6). */
export class FeaturesRefusedError extends VirtioError {
  constructor(
    readonly location: string,
    readonly offered: bigint,
    readonly accepted: bigint,
  ) {
    super(`${location}: device refused features ${hex(accepted)} (offered ${hex(offered)})`);
  }
}

/** A feature the driver cannot work without was not offered (e.g. VERSION_1 on a modern transport). */
export class MissingFeatureError extends VirtioError {
  constructor(
    readonly location: string,
    readonly feature: string,
    readonly offered: bigint,
  ) {
    super(`${location}: device does not offer ${feature} (offered ${hex(offered)})`);
  }
}

/** ConfigGeneration kept changing while the driver read the configuration (§2.5.1). */
export class ConfigGenerationError extends VirtioError {
  constructor(
    readonly location: string,
    readonly attempts: number,
  ) {
    super(`${location}: configuration changed during each of ${attempts} reads`);
  }
}

/** A queue could not be set up: absent, already live, bad size, or asked for at the wrong time. */
export class QueueSetupError extends VirtioError {
  constructor(
    readonly location: string,
    readonly index: number,
    readonly reason: string,
  ) {
    super(`${location}: queue ${index}: ${reason}`);
  }
}

/** A queue is smaller than the least its driver needs (its longest chain, §2.7.5.3.1, or
 * the buffers one device message takes): refused at probe and at every re-initialization
 * (QueueNumMax may shrink across a reset; a legacy virtio-pci queue has a fixed size). */
export class QueueTooSmallError extends QueueSetupError {
  constructor(
    location: string,
    index: number,
    readonly size: number,
    readonly queueNumMax: number,
    readonly needed: number,
    readonly neededFor: string,
  ) {
    super(location, index, `${size} descriptor(s) (QueueNumMax ${queueNumMax}), fewer than the ${needed} ${neededFor}`);
  }
}

/** The device broke a rule, or reported DEVICE_NEEDS_RESET; `reason` says which. */
export class DeviceBrokenError extends VirtioError {
  constructor(
    readonly location: string,
    readonly reason: string,
  ) {
    super(`${location}: device broken: ${reason}`);
  }
}

/** A request was pending when its device was reset or unbound. */
export class DeviceRemovedError extends VirtioError {
  constructor(
    readonly location: string,
    readonly reason: string,
  ) {
    super(`${location}: request cancelled: ${reason}`);
  }
}

/** A request got no answer from the device in time. */
export class RequestTimeoutError extends VirtioError {
  constructor(
    readonly location: string,
    readonly timeoutMs: number,
  ) {
    super(`${location}: no answer from the device in ${timeoutMs} ms`);
  }
}

/** An operation was asked of a device in a state that does not allow it. */
export class DeviceStateError extends VirtioError {
  constructor(
    readonly location: string,
    readonly state: string,
    readonly operation: string,
  ) {
    super(`${location}: cannot ${operation} while ${state}`);
  }
}
