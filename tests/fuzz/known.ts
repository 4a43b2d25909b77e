// Finding classes the fuzzer shows on main today that are open defects (issue #9's, or
// found by this fuzzer and reported), being fixed by their owners: the npm test slice
// reports them without failing. Remove an entry when its fix lands (the slice then fails
// if the class comes back). Anything not listed fails the slice.

export const KNOWN_CLASSES: Readonly<Record<string, string>> = {
  "unnamed-error (blk)": "issue #9 defect 8: a queue too small for one request (RingUsageError ChainTooLong)",
  "no-recovery (blk)": "issue #9 defect 8: a queue too small for one request, after a re-init under a smaller QueueNumMax (RingUsageError ChainTooLong)",
  "no-recovery (input)": "issue #9 defect 8 (input's form): an eventq smaller than one update (event + SYN), after a re-init under a smaller QueueNumMax, is accepted; the device can never deliver",
  "unnamed-error (net)": "issue #9 defect 8: a legacy queue of 1 accepted at probe (RingUsageError ChainTooLong)",
  "tx-stuck-after-lost-buffers (net)": "fuzz finding: transmit buffers a device never returns are never reclaimed (no tx timeout or reset): write() refuses or loses frames for good",
};
