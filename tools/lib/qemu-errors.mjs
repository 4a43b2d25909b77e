// The errors of the QEMU harness (QemuMachine, qemu.mjs): each carries what the UART
// showed (the failed command's output, the transcript's tail) and QEMU's exit if it ended.

export class QemuError extends Error {
  constructor(message, { output = "", transcript = "", exit = null } = {}) {
    super(message);
    this.name = "QemuError";
    /** What the command printed before the failure (batch-mode commands). */
    this.output = output;
    /** The tail of everything the UART printed. */
    this.transcript = transcript;
    /** {code, signal} if QEMU had exited. */
    this.exit = exit;
  }
}
/** A wait ran out of time. */
export class QemuTimeoutError extends QemuError { name = "QemuTimeoutError"; }
/** QEMU exited while the harness waited for something. */
export class QemuExitError extends QemuError { name = "QemuExitError"; }
/** The firmware printed a `FATAL: ` line. */
export class QemuFatalError extends QemuError { name = "QemuFatalError"; }
