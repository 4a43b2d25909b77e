// A broken ring (a used entry the ring refuses) and the memory its requests point at
// (issue 9's fuzz findings "caller-buffer-changed (blk)" and "never-settled (blk)"): a
// buffer is the device's until it returns it or is reset (§2.4), so a request in flight
// when the ring breaks is failed only once the device was reset; the driver resets it
// itself and leaves it broken (FAILED) until restart(), and every call settles.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { RingError } from "../../../ring/errors.js";
import { finish, VERSIONS } from "../core/rig.js";
import { blkRig, rejection, type BlkRig } from "./blk-rig.js";

/** Lets the model and the driver run until nothing moves. */
async function quiet(r: BlkRig): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await r.model.settle();
    await new Promise((done) => setTimeout(done, 1));
  }
}

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: a read into the caller's DMA memory in flight when the ring breaks fails only once the device was reset`, async () => {
    const r = await blkRig(version);
    const dma = r.model.platform.dma;
    const buf = dma.alloc(1024, 64);
    const resets = r.dev.counters.resets;
    r.dev.faults.usedLenExtra = 4;
    const e = await rejection(r.blk.read(0, 2, buf));
    assert.instance(e, RingError);
    assert.ok(r.dev.counters.resets > resets, "the caller got its memory back after the reset");
    assert.instance(r.blk.broken, RingError, "broken until restart()");
    assert.instance(await rejection(r.blk.read(0, 1, buf)), RingError, "fails fast afterwards");
    r.dev.faults.usedLenExtra = 0;
    r.model.clearViolations();
    assert.ok(await r.bus.device(31)!.restart());
    assert.is(r.blk.broken, null);
    assert.equal(await r.blk.read(5, 1, buf), r.disk.image.subarray(5 * 512, 6 * 512));
    dma.free(buf);
    await finish(r);
  });

  test(`${v}: a broken ring: the pieces of a call waiting for bounce memory settle too`, async () => {
    // One piece's worth of bounce memory: the later pieces wait for the first one's.
    const r = await blkRig(version, {}, { maxRequestBytes: 1024, maxBounceBytes: 1024 });
    r.dev.faults.usedLenExtra = 4;
    let outcome: Error | null | "pending" = "pending";
    r.blk.read(0, 8).then(
      () => (outcome = null),
      (error: Error) => (outcome = error),
    );
    await quiet(r);
    assert.instance(outcome, RingError, "the call settled, with the ring's error");
    r.dev.faults.usedLenExtra = 0;
    r.model.clearViolations();
    assert.ok(await r.bus.device(31)!.restart());
    assert.equal(await r.blk.read(0, 8), r.disk.image.subarray(0, 8 * 512));
    await finish(r);
  });
}

test.run();
