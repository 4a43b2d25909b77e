// Reset (VIRTIO 1.2 §2.4): the core writes 0 and waits, bounded, until Status reads 0
// before touching anything else; a device that never finishes fails cleanly.
// (The model's resetDelayReads fault repeats the status from before the reset, so it
// is exercised on a re-initialization, when that status is not 0.)

import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { ResetTimeoutError } from "../../../drivers/virtio/errors.js";
import { finish, rig, VERSIONS } from "./rig.js";

for (const version of VERSIONS) {
  test(`v${version}: a slow reset is waited for (no write before Status reads 0)`, async () => {
    const r = rig({ version });
    const rng = new RngDriver();
    await r.bus.register(rng);
    await r.bus.scan();
    r.dev.faults.resetDelayReads = 3;
    const resets = r.dev.counters.resets;
    assert.ok(await r.bus.device(31)!.restart());
    assert.is(r.dev.counters.resets, resets + 1);
    assert.is(r.bus.devices()[0]!.status, "DRIVER_OK");
    assert.is((await rng.devices()[0]!.read(8)).length, 8);
    await finish(r); // the model records "reset-not-complete" for any early write
  });

  test(`v${version}: a reset that never completes -> ResetTimeoutError, bounded in time`, async () => {
    const r = rig({ version, core: { resetTimeoutMs: 20 } });
    const rng = new RngDriver();
    await r.bus.register(rng);
    await r.bus.scan();
    r.dev.faults.resetDelayReads = 1_000_000;
    const started = performance.now();
    const vd = r.bus.device(31)!;
    assert.is(await vd.restart(), false);
    const elapsed = performance.now() - started;
    assert.instance(vd.error, ResetTimeoutError);
    assert.ok((vd.error as ResetTimeoutError).status !== 0, "carries the status still read");
    assert.is(vd.step, "FAILED");
    assert.ok(elapsed < 1000, `gave up in ${elapsed.toFixed(0)} ms`);
    assert.is(await rng.devices()[0]!.read(4).catch((e: Error) => e.name), "DeviceStateError");
    r.dev.faults.resetDelayReads = 0;
    await finish(r); // the reset at unbind succeeds: then everything is given back
  });
}

test.run();
