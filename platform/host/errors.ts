// Errors of the host model itself (not of the driver under test: those are violations,
// see violations.ts). Each carries the offending values.

/** Base class of every error the host model throws. */
export class HostModelError extends Error {
  override name = "HostModelError";
}

/** A CPU or device access outside the simulated RAM. */
export class MemoryAccessError extends HostModelError {
  override name = "MemoryAccessError";
  constructor(
    readonly addr: number,
    readonly length: number,
    readonly ramBase: number,
    readonly ramSize: number,
  ) {
    super(
      `physical access of ${length} byte(s) at 0x${addr.toString(16)} is outside RAM ` +
        `0x${ramBase.toString(16)}..0x${(ramBase + ramSize).toString(16)}`,
    );
  }
}

/** An MMIO access no window answers, or an access width the bus does not carry. */
export class MmioAccessError extends HostModelError {
  override name = "MmioAccessError";
  constructor(
    readonly addr: number,
    readonly width: number,
    reason: string,
  ) {
    super(`MMIO ${width * 8}-bit access at 0x${addr.toString(16)}: ${reason}`);
  }
}

/** A wrong use of the model's own API (bad option, slot taken, ...). */
export class HostModelUsageError extends HostModelError {
  override name = "HostModelUsageError";
}

/** Thrown by HostModel.assertNoViolations(); lists what the driver did wrong. */
export class ViolationsError extends HostModelError {
  override name = "ViolationsError";
  constructor(readonly violations: readonly { slot: number; rule: string; message: string }[]) {
    super(
      `${violations.length} virtio rule violation(s):\n` +
        violations.map((v) => `  slot ${v.slot} [${v.rule}] ${v.message}`).join("\n"),
    );
  }
}
