// Finding classes the fuzzer shows on main today that are open defects (issue #9's, or
// found by this fuzzer and reported), being fixed by their owners: the npm test slice
// reports them without failing. Remove an entry when its fix lands (the slice then fails
// if the class comes back). Anything not listed fails the slice.

export const KNOWN_CLASSES: Readonly<Record<string, string>> = {
  "no-recovery (blk)": "fuzz finding (after the queue-size fix): a reset that never reads back 0 (a Status lie) leaves the device FAILED with its queues in place and the driver not told (remove cannot run while the device may own the buffers); BlockDevice stays ready and posts the next request to the quiesced ring, where it times out (RequestTimeoutError) instead of being refused at once: blk's ready / request checks do not look at device.live (drivers/README.md: drivers refuse new work once the device leaves live)",
  "never-settled (blk)": "fuzz finding (after 4abdc98): a Status lie (DEVICE_NEEDS_RESET on every read) makes the reset of VirtioDevice.fail() after a ring error never read back 0; the device stays FAILED with the driver's queues in place and nothing retries the reset once the device behaves, so the request waits until the application restarts the device (same root as no-recovery (blk))",
};
