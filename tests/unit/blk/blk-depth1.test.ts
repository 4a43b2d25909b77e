// Depth 1 on the hot path (hybrid polling): requests one at a time into DMA memory, then a
// burst, then one at a time again. After a polled answer with nothing else out the driver
// leaves used-buffer interrupts off and may publish the next lone request at once; a burst
// turns them back on before it is published. Every byte read is checked, the strict model
// sees no rule broken, nothing is left running.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { finish, VERSIONS } from "../core/rig.js";
import { blkRig, pattern } from "./blk-rig.js";

const image = pattern(256);
const expect = (lba: number): Uint8Array => image.subarray(lba * 512, (lba + 8) * 512);

// "sync": the model answers inside the QueueNotify write, so the poll finds the answer
// (interrupts then stay off); "async": on a later turn, so the poll gives up and sleeps.
for (const version of VERSIONS) for (const processing of ["sync", "async"] as const) {
  test(`v${version} ${processing}: one at a time, a burst of 8, one at a time again: all data right`, async () => {
    const r = await blkRig(version, {}, { maxInFlight: 8 }, { processing });
    const dma = r.model.platform.dma;
    const one = dma.alloc(4096, 16);
    const many = Array.from({ length: 8 }, () => dma.alloc(4096, 16));
    const before = r.dev.counters.interrupts;
    for (let i = 0; i < 20; i++) {
      const lba = (i * 24) % 248;
      const got = await r.blk.read(lba, 8, one);
      assert.equal(got, expect(lba), `read ${i} at ${lba}`);
    }
    const burst = await Promise.all(many.map((b, k) => r.blk.read(k * 8, 8, b)));
    burst.forEach((got, k) => assert.equal(got, expect(k * 8), `burst read ${k}`));
    for (let i = 0; i < 5; i++) {
      await r.blk.write(i * 8, many[i]!);
      assert.equal(await r.blk.read(i * 8, 8, one), many[i]!.bytes, `write ${i} read back`);
    }
    assert.is(r.blk.stats().failures, 0);
    assert.is(r.blk.stats().requests, 20 + 8 + 10);
    console.log(`  v${version} ${processing}: ${r.dev.counters.interrupts - before} interrupts for 38 requests`);
    // Polled answers need no interrupt: only the burst's (and the device's hints) remain.
    if (processing === "sync") assert.ok(r.dev.counters.interrupts - before < 8, `${r.dev.counters.interrupts - before} interrupts`);
    dma.free(one);
    for (const b of many) dma.free(b);
    await finish(r);
  });
}

test.run();
