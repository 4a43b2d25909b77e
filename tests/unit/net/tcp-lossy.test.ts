// Property tests: over a wire that loses, duplicates, reorders and delays frames (seeded,
// a few percent each, as a bad real link), every byte of a TCP stream arrives once and in
// order, both ways, and both ends close. Virtual time: retransmission back-off costs nothing.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { echoTransfer } from "./tcp-echo-rig.js";
import { rng, world } from "./tcp-wire.js";

test("perfect wire: 200 KB echoed intact, no retransmission", () => {
  const w = world(10);
  const res = echoTransfer(w, 200_000, 10);
  assert.equal(res.errors, []);
  assert.ok(res.done && res.closed);
  assert.is(res.serverMismatch, -1);
  assert.is(res.clientMismatch, -1);
  assert.is(w.tcpA.stats.retransmittedSegments + w.tcpB.stats.retransmittedSegments, 0);
});

for (let seed = 1; seed <= 12; seed++) {
  test(`seed ${seed}: loss, duplication, reordering, delay: every byte once and in order`, () => {
    const r = rng(seed * 7919);
    const impair = {
      loss: r() * 0.06,
      duplicate: r() * 0.05,
      reorder: r() * 0.1,
      delayMs: 1 + r() * 20,
      reorderMs: 5 + r() * 40,
    };
    const size = 20_000 + Math.floor(r() * 180_000);
    const w = world(seed, impair);
    const res = echoTransfer(w, size, seed);
    const info = JSON.stringify({ impair, size, res, wire: w.wire.stats, a: w.tcpA.stats, b: w.tcpB.stats });
    assert.equal(res.errors, [], info);
    assert.ok(res.done, info);
    assert.is(res.serverReceived, size, info);
    assert.is(res.echoed, size, info);
    assert.is(res.serverMismatch, -1, info);
    assert.is(res.clientMismatch, -1, info);
    assert.ok(res.closed, info);
  });
}

test.run();
