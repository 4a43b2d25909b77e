// A buggy or hostile device (the model's fault switches): every case ends in a clean,
// named error on the request, the device's error set, the driver still bound, nothing
// thrown into the event loop, and no memory touched outside what was allocated (the
// ring validates before it reads or copies anything).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDevice } from "../../../platform/host/index.js";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { RingError } from "../../../ring/errors.js";
import { finish, rig, VERSIONS, type Rig } from "./rig.js";

async function boundRng(version: 1 | 2, device = new RngDevice({ seed: 3 })) {
  const r = rig({ version, device });
  const rng = new RngDriver({ timeoutMs: 60 });
  await r.bus.register(rng);
  await r.bus.scan();
  return { r, rng, handle: rng.devices()[0]!, vd: r.bus.device(31)! };
}

function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "resolved",
    (e: Error) => (e instanceof RingError ? `RingError:${e.kind}` : e.name),
  );
}

/** After a broken queue: the driver is still bound, the next request fails fast with
 * the same error, and a restart brings the device back. */
async function recovers(r: Rig, rng: RngDriver, kind: string): Promise<void> {
  const vd = r.bus.device(31)!;
  assert.is(vd.driver, rng, "driver still bound");
  assert.instance(vd.error, RingError);
  assert.is(r.bus.devices()[0]!.error, vd.error!.message);
  assert.is(await outcome(rng.devices()[0]!.read(4)), `RingError:${kind}`, "fails fast while broken");
  assert.ok(await vd.restart());
  assert.is((await rng.devices()[0]!.read(16)).length, 16, "works after the restart");
}

for (const version of VERSIONS) {
  for (const [fault, kind] of [
    ["usedIdOutOfRange", "BadUsedId"],
    ["usedIdNotHead", null],
    ["usedLenExtra", "BadUsedLength"],
  ] as const) {
    test(`v${version}: ${fault} -> RingError, driver up, recovered by restart`, async () => {
      const { r, rng, handle } = await boundRng(version);
      if (fault === "usedLenExtra") r.dev.faults.usedLenExtra = 100;
      else r.dev.faults[fault] = true;
      const results = await Promise.all([outcome(handle.read(64)), outcome(handle.read(8))]);
      const seen = results[0]!;
      assert.ok(seen.startsWith("RingError:"), seen);
      if (kind !== null) assert.is(seen, `RingError:${kind}`);
      assert.equal(results[1], seen, "every request in flight fails with the same error");
      r.dev.faults.usedIdOutOfRange = r.dev.faults.usedIdNotHead = false;
      r.dev.faults.usedLenExtra = 0;
      await recovers(r, rng, seen.slice("RingError:".length));
      await finish(r);
    });
  }

  test(`v${version}: spurious interrupts are counted and ignored`, async () => {
    const { r, handle, vd } = await boundRng(version);
    r.dev.faults.spuriousInterrupts = true;
    for (let i = 0; i < 5; i++) assert.is((await handle.read(8)).length, 8);
    await r.model.settle();
    assert.ok(vd.stats().spuriousInterrupts > 0, "seen");
    assert.is(vd.error, null);
    r.dev.faults.spuriousInterrupts = false;
    await finish(r);
  });

  test(`v${version}: dropped interrupts: the watchdog poll finds the completions`, async () => {
    const { r, handle } = await boundRng(version);
    r.dev.faults.dropInterrupts = true;
    const bytes = await handle.read(40);
    assert.is(bytes.length, 40);
    assert.ok(r.dev.counters.droppedInterrupts > 0, "the model dropped them");
    assert.ok(handle.stats().polledCompletions > 0, "found by polling");
    r.dev.faults.dropInterrupts = false;
    await finish(r);
  });

  test(`v${version}: a device that never answers -> RequestTimeoutError; its buffer is kept until the reset`, async () => {
    const device = new RngDevice({ delayTurns: 1_000_000_000 });
    const { r, handle, vd } = await boundRng(version, device);
    const ringsOnly = r.model.dma.stats().used;
    r.dev.faults.resetDelayReads = 5; // the reset the driver asks for after the timeout takes a few polls
    const started = performance.now();
    assert.is(await outcome(handle.read(8)), "RequestTimeoutError");
    assert.ok(performance.now() - started < 1000);
    assert.is(handle.stats().timeouts, 1);
    assert.is(vd.state, "resetting");
    assert.ok(r.model.dma.stats().used > ringsOnly, "the device still holds the buffer until its reset completes");
    await vd.settled(); // reset (then re-initialized): now the buffer comes back
    assert.is(handle.stats().restarts, 1);
    assert.is(r.model.dma.stats().used, ringsOnly, "only the new rings");
    await r.bus.shutdown();
    assert.is(r.model.dma.stats().used, 0);
    await finish(r);
  });
}

test("v2: the device stops serving after a ring violation; the error names the values", async () => {
  const { r, handle, vd } = await boundRng(2);
  r.dev.faults.usedIdOutOfRange = true;
  await outcome(handle.read(8));
  const error = vd.error as RingError;
  assert.is(error.kind, "BadUsedId");
  assert.ok(typeof error.values.id === "number" && error.values.id >= 64, `id ${error.values.id}`);
  r.dev.faults.usedIdOutOfRange = false;
  await finish(r);
});

test.run();
