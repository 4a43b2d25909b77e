// Finding classes the fuzzer shows on main today that are open defects of issue #9,
// being fixed by their owners: the test slice reports them without failing. Remove an
// entry when its fix lands (the slice then fails if the class comes back). Anything not
// listed fails the slice.

export const KNOWN_CLASSES: Readonly<Record<string, string>> = {
  "dma-freed-while-device-holds (blk)": "issue #9 defect 2: blk frees DMA memory the device still owns (timeout, ring error)",
  "violation:notify-before-driver-ok (blk)": "issue #9 defect 3: drivers submit to a device in reset",
  "violation:reset-not-complete (blk)": "issue #9 defect 3: drivers submit to a device in reset; the core's interrupt handler writes InterruptACK during a reset wait",
  "violation:reset-not-complete (rng)": "issue #9 defect 3: the core's interrupt handler writes InterruptACK during a reset wait",
  "no-recovery (rng)": "issue #9 defect 5: rng keeps pieces of timed-out jobs on a device that never returns them (no reset)",
  "unnamed-error (blk)": "issue #9 defect 8: a queue too small for one request (RingUsageError ChainTooLong)",
};
