// The IP stack on a network device is closed when the device is unbound, even after a
// re-initialization that failed before probe: after bus.shutdown() none of its timers
// (DHCP retries here) is left running.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { finishNet, netRig, wait } from "./net-rig.js";

test("v2: DHCP retrying, re-init refused at FEATURES_OK, shutdown -> stack closed, no timer left", async () => {
  // No DHCP server on the wire: the client retries on its timer.
  const r = await netRig(2, {}, { ip: { dhcp: { retryMs: 20, attempts: 1000 } } });
  await wait(30);
  const vd = r.bus.device(31)!;
  const dev = r.model.device(31)!;
  dev.faults.refuseFeaturesOk = true;
  assert.is(await vd.restart(), false);
  dev.faults.refuseFeaturesOk = false;
  assert.ok(r.model.timers.active > 0, "DHCP still retrying while the device is failed");
  await finishNet(r); // shutdown, then: no timer left running
  assert.is(r.driver.interfaces().length, 0, "the interface is forgotten at unbind");
});

test.run();
