// A reset takes back transmit buffers the device had not returned: whether their frames
// went out is unknown, and the driver says so (stats().txAbandoned) instead of losing
// them silently.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { finishNet, netRig, PEER_MAC, testFrame } from "./net-rig.js";

for (const version of [1, 2] as const) {
  test(`v${version}: frames in flight at a reset are counted as abandoned`, async () => {
    const r = await netRig(version);
    r.net.write(testFrame(PEER_MAC, r.net.mac, 60));
    r.net.write(testFrame(PEER_MAC, r.net.mac, 61));
    assert.ok(await r.bus.device(31)!.restart()); // before the device served the notification
    assert.is(r.net.stats().txAbandoned, 2);
    r.net.write(testFrame(PEER_MAC, r.net.mac, 62));
    await r.model.settle();
    assert.is(r.net.stats().txAbandoned, 2, "a frame the device returned is not counted");
    await finishNet(r);
  });
}

test.run();
