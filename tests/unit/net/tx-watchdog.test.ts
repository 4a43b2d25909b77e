// A device that takes transmit buffers and never returns them (a hung transmitq): the
// transmit watchdog resets and re-initializes it once a buffer has been held past
// txTimeoutMs, so the slots come back (counted as abandoned) and frames flow again; one
// sweep timer runs only while frames are out.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { NetQueueFullError, NetTxTimeoutError } from "../../../drivers/net/errors.js";
import { finishNet, netRig, PEER_MAC, testFrame, until } from "./net-rig.js";

for (const version of [1, 2] as const) {
  test(`v${version}: transmit buffers a device never returns come back by a reset, and frames flow again`, async () => {
    const r = await netRig(version, {}, { txSlots: 4, txTimeoutMs: 40 });
    const errors: Error[] = [];
    r.net.onError = (e) => errors.push(e);
    const dev = r.model.device(31)!;
    dev.faults.loseChains = true; // takes every chain, answers none
    for (let i = 0; i < 4; i++) r.net.write(testFrame(PEER_MAC, r.net.mac, 60 + i));
    await r.model.settle();
    assert.throws(() => r.net.write(testFrame(PEER_MAC, r.net.mac, 70)), (e: unknown) => e instanceof NetQueueFullError);
    dev.faults.loseChains = false; // behaves again: only a reset gives the four back
    await until(() => r.net.stats().txTimeouts === 1 && r.net.ready && r.net.writable === 4, 5000);
    assert.is(r.net.stats().txAbandoned, 4, "the held frames are counted, not lost silently");
    assert.ok(errors.some((e) => e instanceof NetTxTimeoutError), "the stall is reported");
    r.net.write(testFrame(PEER_MAC, r.net.mac, 80));
    await until(() => r.nic.transmitted.some((f) => f.length === 80));
    assert.is(r.net.stats().txTimeouts, 1, "one reset");
    await finishNet(r);
  });
}

test("a device that returns every frame is never reset, and the sweep timer stops when nothing is out", async () => {
  const r = await netRig(2, {}, { txTimeoutMs: 20 });
  const timersIdle = r.model.timers.active;
  for (let i = 0; i < 10; i++) r.net.write(testFrame(PEER_MAC, r.net.mac, 60 + i));
  assert.is(r.model.timers.active, timersIdle + 1, "one sweep timer for ten frames");
  await until(() => r.nic.transmitted.length === 10 && r.model.timers.active === timersIdle);
  assert.is(r.net.stats().txTimeouts, 0);
  assert.is(r.net.stats().txAbandoned, 0);
  await finishNet(r);
});

test("txTimeoutMs 0 turns the watchdog off", async () => {
  const r = await netRig(2, {}, { txTimeoutMs: 0 });
  const timersIdle = r.model.timers.active;
  r.net.write(testFrame(PEER_MAC, r.net.mac, 60));
  assert.is(r.model.timers.active, timersIdle);
  await finishNet(r);
});

test.run();
