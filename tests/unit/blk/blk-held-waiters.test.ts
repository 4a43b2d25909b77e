// Requests waiting for a request slot behind slots that only a reset gives back: a
// device that keeps its chains and never finishes a reset, or a ring the device broke.
// They fail with the error the held ones got, never wait for ever. Found by the
// hostile-device fuzzer (tests/fuzz, `never-settled (blk)`).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { BlkDevice } from "../../../platform/host/devices/blk-device.js";
import { BlkDriver } from "../../../drivers/blk/blk-driver.js";
import { virtio } from "../../../platform/host/index.js";
import { rig, VERSIONS } from "../core/rig.js";
import { pattern, rejection } from "./blk-rig.js";

for (const version of VERSIONS) {
  test(`v${version}: held slots and a reset that never completes: the waiting requests fail too`, async () => {
    const disk = new BlkDevice({ image: pattern(64) });
    const r = rig({ version, device: disk, core: { resetTimeoutMs: 20 } });
    const driver = new BlkDriver({ maxInFlight: 1, timeoutMs: 30, maxRestarts: 0 });
    await r.bus.register(driver);
    await r.bus.scan();
    const blk = driver.devices()[0]!;
    r.dev.faults.loseChains = true; // takes the chain, never answers
    r.dev.faults.registerRead = (offset, _w, value) => (offset === virtio.REG.Status ? value | virtio.STATUS.DEVICE_NEEDS_RESET : value); // never reads 0
    try {
      const first = blk.read(0, 1);
      const second = blk.read(1, 1); // waits for the one slot
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settled = await Promise.race([
        Promise.all([rejection(first), rejection(second)]),
        new Promise<null>((done) => { timer = setTimeout(() => done(null), 2000); }),
      ]);
      clearTimeout(timer);
      assert.ok(settled !== null, "both reads settle");
      for (const e of settled!) assert.ok(e.name === "RequestTimeoutError" || e.name === "DeviceBrokenError", e.name);
    } finally {
      r.dev.faults.registerRead = null;
      r.dev.faults.loseChains = false;
      r.model.platform.powerOff(); // no timer left running, pass or fail
    }
  });
}

for (const version of VERSIONS) {
  test(`v${version}: a broken ring: a multi-piece read waiting for slots fails, with the RingError`, async () => {
    const disk = new BlkDevice({ image: pattern(64) });
    const r = rig({ version, device: disk });
    const driver = new BlkDriver({ maxInFlight: 1, maxRequestBytes: 2048 });
    await r.bus.register(driver);
    await r.bus.scan();
    const blk = driver.devices()[0]!;
    r.dev.faults.usedIdOutOfRange = true;
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const e = await Promise.race([
        rejection(blk.read(4, 40)), // 10 pieces, one slot
        new Promise<null>((done) => { timer = setTimeout(() => done(null), 2000); }),
      ]);
      clearTimeout(timer);
      assert.ok(e !== null, "the read settles");
      assert.is(e!.name, "RingError");
    } finally {
      r.model.platform.powerOff();
    }
  });
}

test.run();
