// Fault injection: switches that make a device model play a buggy or hostile device.
// Every switch is off by default; tests set them on a device (`device.faults.X = ...`)
// and may set them back. See README.md for what each one does to the driver's view.

export interface DeviceFaults {
  /** Used elements carry an id beyond the queue size. */
  usedIdOutOfRange: boolean;
  /** Used elements carry the index of a descriptor that is not the chain's head. */
  usedIdNotHead: boolean;
  /** Added to the used length, beyond the chain's writable bytes (0 = off). */
  usedLenExtra: number;
  /** InterruptStatus is set but the interrupt line is never raised. */
  dropInterrupts: boolean;
  /** The line is also raised, with nothing in InterruptStatus, on every notify. */
  spuriousInterrupts: boolean;
  /** Status does not keep FEATURES_OK when the driver sets it. */
  refuseFeaturesOk: boolean;
  /** The config generation moves on every N-th config read (0 = off), as a config
   * change racing the driver's read would. */
  configGenerationEvery: number;
  /** After a reset (Status written 0), this many Status reads still return the old
   * status before 0 is read (0 = the reset is immediate). */
  resetDelayReads: number;
  /** Each used element is published twice (a device completing one chain twice). */
  usedTwice: boolean;
  /** used.idx moves this many entries further than the elements written: the driver
   * sees stale or never-written used elements (0 = off). */
  usedIdxAhead: number;
  /** Rewrites what a register read returns (offset in the window: the config space is
   * at 0x100 and up), after the device decided it: lies about any register or config
   * byte; null = honest. */
  registerRead: ((offset: number, width: number, value: number) => number) | null;
  /** Chains are taken and their completions withheld (a stalled device) until
   * `releaseHeld()` makes them, late; a reset drops them. */
  holdChains: boolean;
  /** Chains are taken and never returned (a hung device; only a reset takes them back). */
  loseChains: boolean;
}

export function noFaults(): DeviceFaults {
  return {
    usedIdOutOfRange: false,
    usedIdNotHead: false,
    usedLenExtra: 0,
    dropInterrupts: false,
    spuriousInterrupts: false,
    refuseFeaturesOk: false,
    configGenerationEvery: 0,
    resetDelayReads: 0,
    usedTwice: false,
    usedIdxAhead: 0,
    registerRead: null,
    holdChains: false,
    loseChains: false,
  };
}
