// Errors of the 9P driver: what the server answered (Rlerror with its errno) and what a
// misbehaving device did to the protocol (wrong tag, size or type, a short reply).

import { VirtioError } from "../virtio/errors.js";
import { errnoName, opName } from "./ninep-spec.js";

/** The server answered Rlerror: `errno` (Linux value) with its name, for request `op`. */
export class NinepError extends VirtioError {
  readonly code: string;
  constructor(
    readonly op: string,
    readonly errno: number,
    readonly path = "",
  ) {
    super(`${op}${path === "" ? "" : ` ${path}`}: ${errnoName(errno)} (errno ${errno})`);
    this.code = errnoName(errno);
  }
}

export type NinepProtocolKind = "short-reply" | "size-mismatch" | "wrong-tag" | "wrong-type" | "bad-msize" | "bad-version" | "bad-count" | "bad-config";

/** The device broke the 9P framing: the client is marked broken. */
export class NinepProtocolError extends VirtioError {
  constructor(
    readonly kind: NinepProtocolKind,
    detail: string,
    readonly values: Readonly<Record<string, number | string>> = {},
  ) {
    super(`9P protocol error (${kind}): ${detail}`);
  }
}

/** A files-API call after close() or on a closed file. */
export class NinepClosedError extends VirtioError {
  constructor(what: string) {
    super(`${what} is closed`);
  }
}

export { opName };
