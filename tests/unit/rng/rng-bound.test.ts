// rng on a device that never returns buffers (defect: unbounded growth). A request that
// times out leaves its buffers with the device (they are the device's until it returns
// them or is reset), so the driver resets the device, which gives them back; at most
// maxRestarts times, then the device is given up on (unbound, DeviceBrokenError). The
// parts of a timed-out request still waiting for a descriptor are dropped at once.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDevice } from "../../../platform/host/index.js";
import { RngDriver, type RngDriverOptions } from "../../../drivers/rng/rng-driver.js";
import { finish, rig, VERSIONS } from "../core/rig.js";

/** An entropy device that stops answering while `hung`: it never takes a chain. */
class HungRng extends RngDevice {
  hung = true;
  override process(queue: number): void {
    if (!this.hung) super.process(queue);
  }
}

const outcome = (p: Promise<unknown>) => p.then(() => "resolved", (e: Error) => e.name);

/** A hung entropy device with the driver bound to it. */
async function boundHung(version: 1 | 2, options: RngDriverOptions) {
  const device = new HungRng();
  const r = rig({ version, device });
  const rng = new RngDriver(options);
  await r.bus.register(rng);
  await r.bus.scan();
  return { r, device, handle: rng.devices()[0]!, vd: r.bus.device(31)! };
}

for (const version of VERSIONS) {
  test(`v${version}: timeouts reset the device (buffers back only then), bounded by maxRestarts, then given up`, async () => {
    const { r, handle, vd } = await boundHung(version, { timeoutMs: 20, queueSize: 8, chunkSize: 64, maxRestarts: 2 });
    const dmaIdle = r.model.dma.stats().used; // the ring itself
    const resets = r.dev.counters.resets;
    for (let round = 1; round <= 2; round++) {
      const read = outcome(handle.read(64 * 8 * 4)); // 32 buffers: 8 on the ring, 24 waiting
      // Microtasks only (the chunks are posted from one): a turn of the event loop could
      // see the 20 ms deadline pass already on a loaded machine.
      for (let i = 0; i < 100 && handle.queuedBuffers > 24; i++) await Promise.resolve();
      assert.is(handle.queuedBuffers, 24, "waiting for a descriptor");
      assert.ok(r.model.dma.stats().used > dmaIdle, "8 buffers with the device");
      assert.is(await read, "RequestTimeoutError");
      assert.is(handle.queuedBuffers, 0, "the timed-out request's waiting parts are dropped");
      await vd.settled();
      assert.is(r.dev.counters.resets, resets + round, "the device was reset to take its buffers back");
      assert.is(handle.stats().restarts, round);
      assert.is(vd.state, "live");
      assert.is(r.model.dma.stats().used, dmaIdle, "its buffers freed after the reset, not before");
    }
    assert.is(await outcome(handle.read(64)), "RequestTimeoutError");
    await vd.settled();
    assert.is(vd.driver, null, "given up on after maxRestarts: unbound");
    assert.is(await outcome(handle.read(8)), "DeviceBrokenError");
    assert.is(handle.pendingRequests, 0);
    await finish(r, 0);
  });

  test(`v${version}: a device that hangs once comes back after the reset`, async () => {
    const { r, device, handle } = await boundHung(version, { timeoutMs: 20 });
    assert.is(await outcome(handle.read(32)), "RequestTimeoutError");
    device.hung = false;
    await r.bus.device(31)!.settled();
    assert.is((await handle.read(32)).length, 32);
    await finish(r);
  });

  test(`v${version}: many timed-out calls on a hung device keep memory bounded`, async () => {
    const { r, handle, vd } = await boundHung(version, { timeoutMs: 5, queueSize: 4, chunkSize: 16, maxRestarts: 1000 });
    for (let i = 0; i < 40; i++) {
      const calls = [outcome(handle.read(64)), outcome(handle.read(64))];
      for (const c of calls) {
        const seen = await c;
        assert.ok(["RequestTimeoutError", "DeviceRemovedError", "DeviceStateError"].includes(seen), seen);
      }
      assert.ok(handle.queuedBuffers <= 8, `${handle.queuedBuffers} buffers waiting`);
      await vd.settled();
    }
    assert.ok(r.dev.counters.resets >= 20, "reset after timeouts");
    await finish(r);
  });
}

test.run();
