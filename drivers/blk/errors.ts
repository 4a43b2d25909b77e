// Errors of the block driver. Each carries the values that caused it.

import { VirtioError } from "../virtio/errors.js";
import { requestName, statusName } from "./blk-spec.js";

/** A configuration field the device gave breaks §5.2.4 (checked at probe and on change). */
export class BlkConfigError extends VirtioError {
  constructor(
    readonly location: string,
    readonly field: string,
    readonly value: number | bigint,
    readonly rule: string,
  ) {
    super(`${location}: config ${field} = ${String(value)}: ${rule}`);
  }
}

/** A request asked for sectors the disk does not have, or a bad count, before it was sent. */
export class BlkRangeError extends VirtioError {
  constructor(
    readonly location: string,
    readonly lba: unknown,
    readonly count: unknown,
    readonly capacity: number,
    readonly reason: string,
  ) {
    super(`${location}: bad range lba ${String(lba)} count ${String(count)} (capacity ${capacity} sectors): ${reason}`);
  }
}

/** A write, discard or write-zeroes to a read-only disk (VIRTIO_BLK_F_RO), refused before sending. */
export class BlkReadOnlyError extends VirtioError {
  constructor(
    readonly location: string,
    readonly operation: string,
  ) {
    super(`${location}: ${operation} refused: the disk is read-only`);
  }
}

/** The device does not offer what the operation needs (e.g. DISCARD), refused before sending. */
export class BlkUnsupportedError extends VirtioError {
  constructor(
    readonly location: string,
    readonly operation: string,
    readonly feature: string,
  ) {
    super(`${location}: ${operation} not supported: the device does not offer ${feature}`);
  }
}

/** The device answered a request with a status other than OK (§5.2.6: IOERR, UNSUPP, or junk). */
export class BlkStatusError extends VirtioError {
  constructor(
    readonly location: string,
    readonly type: number,
    readonly sector: number,
    readonly status: number,
  ) {
    super(`${location}: ${requestName(type)} at sector ${sector} failed: ${statusName(status)}`);
  }
}

/** The used length says the device did not write what it must (the status byte, or all the data read). */
export class BlkUsedLengthError extends VirtioError {
  constructor(
    readonly location: string,
    readonly type: number,
    readonly sector: number,
    readonly usedLength: number,
    readonly expected: number,
  ) {
    super(`${location}: ${requestName(type)} at sector ${sector}: device wrote ${usedLength} bytes, expected ${expected}`);
  }
}

/** A buffer given to read/write does not fit the request. */
export class BlkBufferError extends VirtioError {
  constructor(
    readonly location: string,
    readonly length: number,
    readonly reason: string,
  ) {
    super(`${location}: buffer of ${length} bytes: ${reason}`);
  }
}
